"""Who sees which menus, classes and timetables (see schools.selectors for the scheme)."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from enrollment.selectors import (
    enrolments_in_force,
    guardians_of_enrolled_between,
    is_enrolled_on,
    leaves_between,
    slot_enrolments_in_force,
)
from schools.models import (
    MANAGER_ROLES,
    SCHOOL_ROLES,
    ServiceSlot,
    Staff,
    Student,
    Term,
    User,
)
from schools.selectors import (
    children_of,
    district_ids_for,
    monday_of,
    register_student_scope,
    school_ids_for,
    service_days,
    slot_dates,
    term_of_week,
)

from .models import Menu, MenuItem, Placement, TemporaryClass


def menus_visible_to(user: User) -> QuerySet[Menu]:
    """Staff of the school and the district see every menu; guardians the published ones of
    their children's schools."""
    if not user.is_authenticated:
        return Menu.objects.none()
    base = Menu.objects.select_related("school", "term")
    if user.is_superuser:
        return base
    q = Q(school_id__in=school_ids_for(user, SCHOOL_ROLES))
    q |= Q(school__district_id__in=district_ids_for(user))
    q |= Q(school_id__in=children_of(user).values("school_id")) & ~Q(status=Menu.Status.DRAFT)
    return base.filter(q)


def menus_managed_by(user: User) -> QuerySet[Menu]:
    if not user.is_authenticated:
        return Menu.objects.none()
    return Menu.objects.select_related("school", "term").filter(
        school_id__in=school_ids_for(user, MANAGER_ROLES))


def items_of(menu: Menu) -> QuerySet[MenuItem]:
    return menu.items.select_related("activity", "slot", "teacher")


def temporary_classes_visible_to(user: User) -> QuerySet[TemporaryClass]:
    """The school's staff who run it and the district see every class; a teacher the classes
    they head; a guardian the classes their children sit in."""
    if not user.is_authenticated:
        return TemporaryClass.objects.none()
    base = TemporaryClass.objects.select_related("menu__school", "slot", "head_teacher", "item")
    if user.is_superuser:
        return base
    q = Q(menu__school_id__in=school_ids_for(user))
    q |= Q(menu__school__district_id__in=district_ids_for(user))
    q |= Q(head_teacher__user=user)
    q |= Q(pk__in=Placement.objects.filter(student__in=children_of(user))
           .values("temporary_class_id"))
    return base.filter(q)


def own_children_only(request, cls: TemporaryClass) -> set[int] | None:
    """The ids a viewer may see among a class's members: None (all) for the school's staff,
    the district and the class's head teacher; a guardian sees only their own children."""
    user = getattr(request, "user", None)
    if user is None:
        return set()
    if (user.is_superuser or cls.menu.school_id in school_ids_for(user, SCHOOL_ROLES)
            or cls.menu.school.district_id in district_ids_for(user)
            or (cls.head_teacher is not None and cls.head_teacher.user_id == user.pk)):
        return None
    cache = getattr(request, "_own_children_ids", None)
    if cache is None:
        cache = set(children_of(user).values_list("pk", flat=True))
        request._own_children_ids = cache
    return cache


def classes_managed_by(user: User) -> QuerySet[TemporaryClass]:
    if not user.is_authenticated:
        return TemporaryClass.objects.none()
    return TemporaryClass.objects.select_related("menu__school", "slot", "item").filter(
        menu__school_id__in=school_ids_for(user, MANAGER_ROLES))


def staff_of(user: User) -> Staff | None:
    return Staff.objects.filter(user=user).select_related("school").first()


@register_student_scope
def _serving_teacher_students(user: User) -> Q | None:
    """A serving teacher reaches the children of the temporary classes they head (a subquery:
    no query of its own)."""
    return Q(pk__in=Placement.objects.filter(temporary_class__head_teacher__user=user)
             .values("student_id"))


# --- The week: which slots run on which day, and who is enrolled -----------------------------

def _week_days(term: Term, monday: datetime.date, slots: Iterable[ServiceSlot] | None
               ) -> dict[int, datetime.date]:
    dates = slot_dates(term, monday, monday + datetime.timedelta(days=6), slots)
    return {pk: days[0] for pk, days in dates.items() if days}


def week_slot_days(menu: Menu, slots: Iterable[ServiceSlot] | None = None
                   ) -> dict[int, datetime.date]:
    """Each slot of the menu's term (or of `slots`) that runs in the menu's week → the day it
    runs (the first, should a make-up day run it again). Slots on a holiday or an excluded
    weekday are absent: nobody is placed in them that week."""
    return _week_days(menu.term, menu.week, slots)


def enrolled_in_week(menu: Menu) -> QuerySet:
    """The term's enrolments in force on some day of the menu's week."""
    return enrolments_in_force(menu.term, menu.week, menu.week_end)


def enrolled_slots(menu: Menu, student: Student) -> list[ServiceSlot]:
    """The slots of the menu's week the child is enrolled in and in force on (three queries:
    slots, calendar, enrolments)."""
    slots = list(menu.term.slots.all())
    days = week_slot_days(menu, slots)
    ids = {row[0] for row in slot_enrolments_in_force(menu.term, days, students=[student])}
    return sorted((s for s in slots if s.pk in ids), key=lambda s: (s.weekday, s.start))


def is_enrolled_in_week(menu: Menu, student: Student, slot: ServiceSlot) -> bool:
    """Whether the child is enrolled in `slot` and in force on the day it runs that week."""
    day = week_slot_days(menu, [slot]).get(slot.pk)
    return day is not None and is_enrolled_on(student, menu.term, day, slot)


def guardians_of_enrolled(menu: Menu) -> list[User]:
    return list(guardians_of_enrolled_between(menu.term, menu.week, menu.week_end))


@dataclass(frozen=True)
class Unseated:
    slot: ServiceSlot
    day: datetime.date
    student: Student


def unseated(menu: Menu, *, from_day: datetime.date | None = None) -> list[Unseated]:
    """Children enrolled and in force on a slot's day of an allocated week (from `from_day`,
    default today) who have no seat in it: those who joined after the allocation and found
    their grade's study halls full. The classes page offers to seat them. Reads only the
    enrolments made since the allocation, not the whole school's."""
    allocated_at = (menu.runs.filter(committed=True).order_by("-created_at")
                    .values_list("created_at", flat=True).first())
    if allocated_at is None:
        return []
    from_day = from_day or timezone.localdate()
    slots = {s.pk: s for s in menu.term.slots.all()}
    days = {pk: day for pk, day in week_slot_days(menu, slots.values()).items()
            if day >= from_day}
    # The allocation seated everyone enrolled before it: only later enrolments can wait.
    rows = slot_enrolments_in_force(menu.term, days, created_after=allocated_at)
    seated = set(Placement.objects.filter(menu=menu, student_id__in={r[1] for r in rows})
                 .values_list("slot_id", "student_id"))
    missing = [(slot_id, student_id) for slot_id, student_id, *_rest in rows
               if (slot_id, student_id) not in seated]
    students = Student.objects.select_related("grade", "homeroom").in_bulk(
        {student_id for _slot, student_id in missing})
    return sorted((Unseated(slots[slot_id], days[slot_id], students[student_id])
                   for slot_id, student_id in missing),
                  key=lambda u: (u.day, u.slot.start, u.student.grade.number,
                                 u.student.student_no))


@dataclass(frozen=True)
class WeekRow:
    """One slot of a child's week: the day it runs, the seat (None while the school places
    the child), the reported leave."""

    day: datetime.date
    slot: ServiceSlot
    placement: Placement | None
    leave: object | None


def child_week(student: Student, monday: datetime.date) -> tuple[Menu | None, list[WeekRow]]:
    """The child's week: every slot they are enrolled in and in force on, on the day it runs,
    with their seat and leave — a day the child is enrolled never reads "no class"."""
    term = term_of_week(student.school_id, monday)
    if term is None:
        return None, []
    menu = Menu.objects.filter(school_id=student.school_id, week=monday).first()
    slots = {s.pk: s for s in term.slots.all()}
    week_end = monday + datetime.timedelta(days=6)
    days = _week_days(term, monday, slots.values())
    enrolled = {row[0] for row in slot_enrolments_in_force(term, days, students=[student])}
    seats = {p.slot_id: p for p in Placement.objects.filter(menu=menu, student=student)
             .select_related("temporary_class__head_teacher")} if menu else {}
    leave = {(lv.date, lv.slot_id): lv for lv in leaves_between(monday, week_end,
                                                                 students=[student])}
    rows = [WeekRow(days[pk], slots[pk], seats.get(pk), leave.get((days[pk], pk)))
            for pk in enrolled | set(seats) if pk in days]
    return menu, sorted(rows, key=lambda r: (r.day, r.slot.start))


# --- Published reads for the later stages (attendance, billing, oversight) -------------------

def placements_on(term: Term, day: datetime.date, *, slot: ServiceSlot | int | None = None,
                  students: Iterable[Student | int] | None = None) -> QuerySet[Placement]:
    """The term's placements that seat children on `day`: the allocation of that week, in the
    slots whose timetable runs that day (a make-up day runs the weekday it stands for); none
    on a day without service."""
    weekdays = {d.weekday for d in service_days(term, day, day)}
    if not weekdays:
        return Placement.objects.none()
    qs = (Placement.objects.filter(menu__term=term, menu__week=monday_of(day),
                                   slot__weekday__in=weekdays)
          .select_related("temporary_class", "slot", "student"))
    if slot is not None:
        qs = qs.filter(slot=slot)
    if students is not None:
        qs = qs.filter(student__in=students)
    return qs


def classes_of_weeks(start: datetime.date, end: datetime.date) -> QuerySet[TemporaryClass]:
    """Every allocated temporary class of the weeks whose Monday is in [start, end], with its
    week's menu, term and slot."""
    return (TemporaryClass.objects.filter(menu__week__range=(start, end),
                                          menu__status=Menu.Status.ALLOCATED)
            .select_related("menu__term", "slot"))


def classes_matching(q: Q) -> QuerySet[TemporaryClass]:
    """Temporary classes by a condition of the caller's (later stages' records and reports),
    with their week's menu, term, school and head teacher."""
    return (TemporaryClass.objects.filter(q)
            .select_related("menu__term__school", "slot", "head_teacher"))


def class_members_on(temporary_class: TemporaryClass, day: datetime.date) -> QuerySet[Student]:
    """The children of a temporary class on `day`: placed in it, and enrolled in its slot and
    in force that day (a withdrawal effective mid-week drops out); none if the class does not
    meet that day."""
    menu = temporary_class.menu
    if monday_of(day) != menu.week or not any(
            d.weekday == temporary_class.slot.weekday
            for d in service_days(menu.term, day, day)):
        return Student.objects.none()
    in_force = enrolments_in_force(menu.term, day, slot=temporary_class.slot_id)
    return (Student.objects.filter(placements__temporary_class=temporary_class,
                                   pk__in=in_force.values("student_id"))
            .select_related("grade", "homeroom").order_by("grade__number", "homeroom__name",
                                                          "student_no"))


# --- What each role has to do this week (read by the home pages) -----------------------------

@dataclass(frozen=True)
class OpenChoice:
    """A published menu still taking choices, and how far a child's ranking has got."""

    menu: Menu
    enrolled: int  # slots of that week the child is enrolled in
    ranked: int  # of those, slots with at least one choice

    @property
    def done(self) -> bool:
        return self.ranked >= self.enrolled


def open_choices(student: Student, now: datetime.datetime) -> list[OpenChoice]:
    """The child's school's published menus whose choice deadline is still ahead, for weeks
    the child is enrolled in."""
    result = []
    for menu in (Menu.objects.filter(school_id=student.school_id, status=Menu.Status.PUBLISHED,
                                     choice_deadline__gt=now)
                 .select_related("term").order_by("week")):
        enrolled = {s.pk for s in enrolled_slots(menu, student)}
        if not enrolled:
            continue
        ranked = set(menu.choices.filter(student=student, slot_id__in=enrolled)
                     .values_list("slot_id", flat=True))
        result.append(OpenChoice(menu, len(enrolled), len(ranked)))
    return result


@dataclass(frozen=True)
class ClassToday:
    temporary_class: TemporaryClass
    children: int  # placed, and enrolled in force that day
    on_leave: int


def classes_of_teacher_on(user: User, day: datetime.date) -> list[ClassToday]:
    """The temporary classes `user` heads that meet on `day`, with the children expected."""
    classes = (TemporaryClass.objects.filter(head_teacher__user=user, menu__week=monday_of(day))
               .select_related("menu__term", "slot").order_by("start", "name"))
    runs: dict[int, set[int]] = {}  # term → the weekdays whose timetable runs that day
    result = []
    for cls in classes:
        term = cls.menu.term
        if term.pk not in runs:
            runs[term.pk] = {d.weekday for d in service_days(term, day, day)}
        if cls.slot.weekday not in runs[term.pk]:
            continue
        members = list(class_members_on(cls, day).values_list("pk", flat=True))
        on_leave = (leaves_between(day, day, slot=cls.slot_id, students=members)
                    .values("student_id").distinct().count()) if members else 0
        result.append(ClassToday(cls, len(members), on_leave))
    return result


@dataclass(frozen=True)
class WeekTask:
    """Something the principal must do for a week's menu: create or publish it, allocate it
    once choices close, or seat children who joined after the allocation."""

    class Kind:
        CREATE = "create"
        PUBLISH = "publish"
        CHOOSING = "choosing"
        ALLOCATE = "allocate"
        SEAT = "seat"

    kind: str
    week: datetime.date
    menu: Menu | None
    count: int = 0  # children: unseated (seat), or who have ranked (choosing)
    of: int = 0  # children enrolled that week (choosing)


def week_tasks(school_id: int, now: datetime.datetime) -> list[WeekTask]:
    """This week's and next week's menus of a school, as tasks: a week the term runs needs a
    published menu, allocated once choices close, with everyone seated."""
    this_week = monday_of(timezone.localdate(now))
    menus = {m.week: m for m in Menu.objects.filter(
        school_id=school_id, week__in=[this_week, this_week + datetime.timedelta(days=7)])
        .select_related("term")}
    tasks = []
    for week in (this_week, this_week + datetime.timedelta(days=7)):
        menu = menus.get(week)
        if menu is None:
            if term_of_week(school_id, week) is not None:
                tasks.append(WeekTask(WeekTask.Kind.CREATE, week, None))
        elif menu.status == Menu.Status.DRAFT:
            tasks.append(WeekTask(WeekTask.Kind.PUBLISH, week, menu))
        elif menu.status == Menu.Status.PUBLISHED and menu.choice_deadline <= now:
            tasks.append(WeekTask(WeekTask.Kind.ALLOCATE, week, menu))
        elif menu.status == Menu.Status.PUBLISHED:
            enrolled = enrolled_in_week(menu).values("student_id")
            ranked = menu.choices.filter(student_id__in=enrolled).values("student_id")
            tasks.append(WeekTask(WeekTask.Kind.CHOOSING, week, menu,
                                  count=ranked.distinct().count(),
                                  of=enrolled.distinct().count()))
        else:
            waiting = len({u.student.pk for u in unseated(menu)})
            if waiting:
                tasks.append(WeekTask(WeekTask.Kind.SEAT, week, menu, count=waiting))
    return tasks
