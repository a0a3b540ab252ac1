"""Every write of the scheduling stage: activities, the weekly menu and its policy checks,
choices, allocation into temporary classes and the changes after it. One transaction each,
audited; notices go through the outbox."""

import datetime
import math
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Enrolment
from schools.audit import audit_record
from schools.errors import Conflict, InvalidTransition, PolicyViolation
from schools.models import (
    AuditEntry,
    GuardianStudent,
    School,
    ServiceSlot,
    Staff,
    Student,
    Term,
    User,
)

from . import allocation
from .models import (
    Activity,
    AllocationRun,
    Choice,
    Menu,
    MenuItem,
    Placement,
    TemporaryClass,
)

WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
# R5: at least 2 hours of service on every service weekday ("5+2").
MIN_DAILY_MINUTES = 120
# R5: evening self-study (middle schools) ends no later than 20:30.
LATEST_EVENING_END = datetime.time(20, 30)
# R6: grades 1–2 have no written homework.
NO_WRITTEN_HOMEWORK_GRADES = {1, 2}
Status = Menu.Status


def _notify_many(items: list[dict]) -> None:
    from notifications.services import notify_many

    notify_many(items)


def _audit_many(actor: User, action: str, objects: Sequence, school: School, data) -> None:
    """One audit row per object in one INSERT; `data` is a dict or a function of the object."""
    if not objects:
        return
    content_type = ContentType.objects.get_for_model(type(objects[0]))
    AuditEntry.objects.bulk_create([
        AuditEntry(actor=actor, action=action, content_type=content_type,
                   object_id=str(o.pk), object_repr=str(o)[:200], school=school,
                   data=data(o) if callable(data) else data)
        for o in objects
    ], batch_size=1000)


# --- Activities -------------------------------------------------------------------------------

def _check_grades(school: School, grades: Sequence[int], field_name: str = "grades") -> list[int]:
    valid = set(school.grades.values_list("number", flat=True))
    grades = sorted(set(int(g) for g in grades))
    if not grades:
        raise PolicyViolation(_("请至少选择一个年级。"), field=field_name)
    if unknown := [g for g in grades if g not in valid]:
        raise PolicyViolation(_("本校没有这些年级：%s") % "、".join(map(str, unknown)),
                              field=field_name)
    return grades


def _check_teacher(school: School, teacher: Staff | None, field_name: str = "teacher") -> None:
    if teacher is not None and (teacher.school_id != school.pk or not teacher.active):
        raise PolicyViolation(_("任课教师须为本校在岗教职工或服务人员。"), field=field_name)


@transaction.atomic
def activity_create(*, school: School, user: User, name: str, category: str, grades,
                    capacity: int, description: str = "", teacher: Staff | None = None,
                    room: str = "") -> Activity:
    if category not in Activity.Category.values:
        # R6: collective tutoring and new lessons are not a category anyone can pick.
        raise PolicyViolation(_("不允许的活动类别（不得集体补课或讲授新课）。"), field="category")
    if capacity < 1:
        raise PolicyViolation(_("人数上限须大于 0。"), field="capacity")
    _check_teacher(school, teacher)
    if school.activities.filter(name=name).exists():
        raise PolicyViolation(_("本校已有同名活动。"), field="name")
    activity = Activity.objects.create(
        school=school, name=name, category=category, grades=_check_grades(school, grades),
        capacity=capacity, description=description, teacher=teacher, room=room)
    audit_record(actor=user, action="scheduling.activity.created", obj=activity, school=school,
                 data={"name": name, "category": category, "capacity": capacity})
    return activity


# --- The weekly menu --------------------------------------------------------------------------

def term_of_week(school: School, week: datetime.date) -> Term | None:
    return school.terms.filter(start__lte=week + datetime.timedelta(days=4),
                               end__gte=week).first()


def default_deadline(week: datetime.date) -> datetime.datetime:
    """The Friday before the week, 20:00 local time."""
    friday = week - datetime.timedelta(days=3)
    return timezone.make_aware(datetime.datetime.combine(friday, datetime.time(20, 0)))


@transaction.atomic
def menu_create(*, school: School, week: datetime.date, user: User,
                choice_deadline: datetime.datetime | None = None,
                copy_previous: bool = False) -> Menu:
    """A draft menu for the week of `week` (a Monday); with `copy_previous`, the items of the
    school's latest earlier menu, placed in the same weekday and slot of this week's term."""
    if week.isoweekday() != 1:
        raise PolicyViolation(_("菜单周须从周一开始。"), field="week")
    term = term_of_week(school, week)
    if term is None:
        raise PolicyViolation(_("该周不在任何学期内。"), field="week")
    if school.menus.filter(week=week).exists():
        raise Conflict(_("该周已有菜单。"), code="menu_exists")
    deadline = choice_deadline or default_deadline(week)
    if deadline.date() >= week + datetime.timedelta(days=7):
        raise PolicyViolation(_("选课截止时间须在该周结束之前。"), field="choice_deadline")
    menu = Menu.objects.create(school=school, term=term, week=week, choice_deadline=deadline,
                               created_by=user)
    copied = 0
    if copy_previous:
        source = school.menus.filter(week__lt=week).exclude(pk=menu.pk).order_by("-week").first()
        if source is not None:
            copied = _copy_items(source, menu)
    audit_record(actor=user, action="scheduling.menu.created", obj=menu, school=school,
                 data={"week": week.isoformat(), "copied_items": copied})
    return menu


def _copy_items(source: Menu, target: Menu) -> int:
    slots = {(s.kind, s.weekday): s for s in target.term.slots.all()}
    items = []
    for item in source.items.select_related("slot", "activity"):
        slot = slots.get((item.slot.kind, item.slot.weekday))
        if slot is None or not item.activity.active:
            continue
        items.append(MenuItem(menu=target, activity=item.activity, slot=slot,
                              teacher_id=item.teacher_id, room=item.room, grades=item.grades,
                              capacity=item.capacity, start=item.start, end=item.end))
    MenuItem.objects.bulk_create(items)
    return len(items)


def _editable(menu: Menu) -> Menu:
    menu = Menu.objects.select_for_update().get(pk=menu.pk)
    if menu.status == Status.ALLOCATED:
        raise InvalidTransition(menu.get_status_display(), _("修改菜单"),
                                _("菜单已分班，不能再修改。"))
    return menu


@transaction.atomic
def menu_item_add(*, menu: Menu, user: User, activity: Activity, slot: ServiceSlot,
                  teacher: Staff | None = None, room: str | None = None, grades=None,
                  capacity: int | None = None, start: datetime.time | None = None,
                  end: datetime.time | None = None) -> MenuItem:
    """Place an activity in a slot. Its teacher, room, grades and capacity default to the
    activity's, its times to the slot's; the policy checks run when the menu is published.
    Editing a published menu takes it back to draft: it must be published again."""
    menu = _editable(menu)
    school = menu.school
    if activity.school_id != school.pk:
        raise PolicyViolation(_("该活动不属于本校。"), field="activity")
    if slot.term_id != menu.term_id:
        raise PolicyViolation(_("该时段不属于本周所在学期。"), field="slot")
    teacher = teacher if teacher is not None else activity.teacher
    _check_teacher(school, teacher)
    start, end = start or slot.start, end or slot.end
    if end <= start:
        raise PolicyViolation(_("结束时间须晚于开始时间。"), field="end")
    capacity = capacity if capacity is not None else activity.capacity
    if capacity < 1:
        raise PolicyViolation(_("人数上限须大于 0。"), field="capacity")
    if menu.items.filter(activity=activity, slot=slot).exists():
        raise Conflict(_("该活动已在此时段。"), code="item_exists")
    item = MenuItem.objects.create(
        menu=menu, activity=activity, slot=slot, teacher=teacher,
        room=activity.room if room is None else room,
        grades=_check_grades(school, grades if grades is not None else activity.grades),
        capacity=capacity, start=start, end=end)
    _back_to_draft(menu)
    audit_record(actor=user, action="scheduling.menu.item_added", obj=menu, school=school,
                 data={"item": item.pk, "activity": activity.name, "slot": slot.pk})
    return item


@transaction.atomic
def menu_item_remove(*, item: MenuItem, user: User) -> None:
    menu = _editable(item.menu)
    data = {"item": item.pk, "activity": item.activity.name, "slot": item.slot_id,
            "choices_removed": item.choices.count()}
    item.delete()
    _back_to_draft(menu)
    audit_record(actor=user, action="scheduling.menu.item_removed", obj=menu,
                 school=menu.school, data=data)


def _back_to_draft(menu: Menu) -> None:
    if menu.status == Status.PUBLISHED:
        menu.status = Status.DRAFT
        menu.save(update_fields=["status"])


@dataclass
class Finding:
    code: str
    message: str
    items: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "items": self.items}


def _overlap(a: MenuItem, b: MenuItem) -> bool:
    return a.slot.weekday == b.slot.weekday and a.start < b.end and b.start < a.end


def menu_check(menu: Menu) -> tuple[list[Finding], list[Finding]]:
    """The policy checks of publication: (problems that refuse it, warnings to acknowledge)."""
    school = menu.school
    items = list(menu.items.select_related("activity", "slot", "teacher"))
    problems: list[Finding] = []
    warnings: list[Finding] = []
    if not items:
        problems.append(Finding("empty", _("菜单中还没有任何活动。")))
    for item in items:
        label = f"{WEEKDAYS[item.slot.weekday]} {item.activity.name}"
        day = menu.day_of(item.slot.weekday)
        latest = (LATEST_EVENING_END if item.slot.kind == ServiceSlot.Kind.EVENING
                  else school.latest_end_on(day))
        if item.end > latest:
            problems.append(Finding("end_time", _(
                "%(item)s 结束时间 %(end)s 晚于本校当季最晚结束时间 %(latest)s。") % {
                "item": label, "end": item.end.strftime("%H:%M"),
                "latest": latest.strftime("%H:%M")}, [item.pk]))
        if item.capacity > school.temp_class_cap:
            problems.append(Finding("capacity", _(
                "%(item)s 人数上限 %(capacity)s 超过本校临时班上限 %(cap)s 人。") % {
                "item": label, "capacity": item.capacity, "cap": school.temp_class_cap},
                [item.pk]))
        if extra := sorted(set(item.grades) - set(item.activity.grades)):
            problems.append(Finding("grade", _(
                "%(item)s 面向了不适合的年级：%(grades)s。") % {
                "item": label, "grades": "、".join(f"{g}年级" for g in extra)}, [item.pk]))
        if (item.activity.category == Activity.Category.HOMEWORK
                and set(item.grades) & NO_WRITTEN_HOMEWORK_GRADES):
            warnings.append(Finding("homework_lower_grades", _(
                "%(item)s 为作业辅导，面向一、二年级：一、二年级不布置书面家庭作业，"
                "请以阅读、游戏化活动为主。") % {"item": label}, [item.pk]))
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if not _overlap(a, b):
                continue
            day = WEEKDAYS[a.slot.weekday]
            if a.teacher_id and a.teacher_id == b.teacher_id:
                problems.append(Finding("teacher_double_booked", _(
                    "%(teacher)s 在%(day)s同一时间安排了两项活动：%(a)s、%(b)s。") % {
                    "teacher": a.teacher.name, "day": day, "a": a.activity.name,
                    "b": b.activity.name}, [a.pk, b.pk]))
            if a.room and a.room == b.room:
                problems.append(Finding("room_double_booked", _(
                    "场地“%(room)s”在%(day)s同一时间安排了两项活动：%(a)s、%(b)s。") % {
                    "room": a.room, "day": day, "a": a.activity.name, "b": b.activity.name},
                    [a.pk, b.pk]))
    excluded = set(menu.term.excluded_weekdays)
    for weekday in range(1, 6):
        if weekday in excluded:
            continue
        minutes = _covered_minutes([(i.start, i.end) for i in items if i.slot.weekday == weekday])
        if minutes < MIN_DAILY_MINUTES:
            warnings.append(Finding("short_day", _(
                "%(day)s 服务时长 %(minutes)s 分钟，不足 2 小时（“5+2”要求每天至少 2 小时）。") % {
                "day": WEEKDAYS[weekday], "minutes": minutes}))
    return problems, warnings


def _covered_minutes(intervals: list[tuple[datetime.time, datetime.time]]) -> int:
    def minutes(t: datetime.time) -> int:
        return t.hour * 60 + t.minute

    total, reach = 0, -1
    for start, end in sorted((minutes(s), minutes(e)) for s, e in intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


@transaction.atomic
def menu_publish(*, menu: Menu, user: User, acknowledge_warnings: bool = False) -> Menu:
    """Publish a draft after its policy checks: any problem refuses it (409 with the list);
    warnings must be acknowledged. Each publication is a new version; guardians are told."""
    menu = Menu.objects.select_for_update().select_related("school", "term").get(pk=menu.pk)
    if menu.status != Status.DRAFT:
        raise InvalidTransition(menu.get_status_display(), _("发布"))
    problems, warnings = menu_check(menu)
    report = {"problems": [p.as_dict() for p in problems],
              "warnings": [w.as_dict() for w in warnings]}
    if problems:
        raise Conflict(_("菜单未通过发布检查，共 %d 个问题。") % len(problems),
                       code="policy_check_failed", extra=report)
    if warnings and not acknowledge_warnings:
        raise Conflict(_("请确认 %d 条提示后再发布。") % len(warnings),
                       code="warnings_unacknowledged", extra=report)
    menu.status = Status.PUBLISHED
    menu.version += 1
    menu.published_at = timezone.now()
    menu.published_by = user
    menu.acknowledged_warnings = report["warnings"]
    menu.save(update_fields=["status", "version", "published_at", "published_by",
                             "acknowledged_warnings"])
    audit_record(actor=user, action="scheduling.menu.published", obj=menu, school=menu.school,
                 data={"version": menu.version, "items": menu.items.count(),
                       "warnings_acknowledged": report["warnings"]})
    deadline = timezone.localtime(menu.choice_deadline).strftime("%m月%d日 %H:%M")
    _notify_many([
        dict(recipient=guardian, purpose="scheduling.menu_published",
             dedupe_key=f"scheduling.menu_published:{menu.pk}:{menu.version}:{guardian.pk}",
             subject=_("%(week)s 起一周课后服务菜单已发布") % {
                 "week": menu.week.strftime("%m月%d日")},
             body=_("请在 %(deadline)s 前为孩子选择每个时段的活动（最多 %(n)s 个志愿）。") % {
                 "deadline": deadline, "n": menu.school.choices_per_slot},
             url=menu.get_absolute_url(), payload={"menu": menu.pk, "version": menu.version})
        for guardian in guardians_of_enrolled(menu)
    ])
    return menu


def enrolled_q(menu: Menu, path: str = "") -> Q:
    """Active enrolments of the menu's term that cover some day of its week, as a condition
    on `path` (e.g. "enrolment__"): a plain join, not an IN subquery, which the planner can
    misjudge badly on freshly written rows."""
    friday = menu.week + datetime.timedelta(days=4)
    return (Q(**{f"{path}term": menu.term_id, f"{path}status": Enrolment.Status.ACTIVE,
                 f"{path}start_date__lte": friday})
            & (Q(**{f"{path}end_date__isnull": True}) | Q(**{f"{path}end_date__gte": menu.week})))


def enrolled_in_week(menu: Menu):
    """Active enrolments of the menu's term that cover some day of its week."""
    return Enrolment.objects.filter(enrolled_q(menu))


def _covers(enrolment: Enrolment, day: datetime.date) -> bool:
    return enrolment.start_date <= day and (enrolment.end_date is None
                                            or enrolment.end_date >= day)


def enrolled_slots(menu: Menu, student: Student) -> list[ServiceSlot]:
    """The slots of the menu's week the child is enrolled in, on their day (two queries)."""
    enrolments = (enrolled_in_week(menu).filter(student=student)
                  .prefetch_related("slots"))
    slots = {slot.pk: slot for e in enrolments for slot in e.slots.all()
             if _covers(e, menu.day_of(slot.weekday))}
    return sorted(slots.values(), key=lambda s: (s.weekday, s.start))


def is_enrolled_on(menu: Menu, student: Student, slot: ServiceSlot) -> bool:
    """Whether the child is enrolled in `slot` on its day of the menu's week."""
    day = menu.day_of(slot.weekday)
    return Enrolment.objects.filter(
        student=student, term_id=menu.term_id, status=Enrolment.Status.ACTIVE, slots=slot,
        start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gte=day)).exists()


def guardians_of_enrolled(menu: Menu) -> list[User]:
    return list(User.objects.filter(
        enrolled_q(menu, "guardian_profile__links__student__enrolments__")).distinct())


# --- Choices (菜单双选) -----------------------------------------------------------------------

@transaction.atomic
def choices_set(*, menu: Menu, student: Student, slot: ServiceSlot, items: Sequence[MenuItem],
                user: User) -> list[Choice]:
    """Replace a child's ranking for one slot (best first); an empty list withdraws it (the
    child goes to supervised homework and reading)."""
    menu = Menu.objects.select_related("school").get(pk=menu.pk)
    if menu.status != Status.PUBLISHED:
        raise Conflict(_("菜单尚未发布或已分班，不能选课。"), code="menu_not_open")
    if timezone.now() >= menu.choice_deadline:
        raise Conflict(_("选课已于 %s 截止。") % timezone.localtime(menu.choice_deadline)
                       .strftime("%m月%d日 %H:%M"), code="deadline_passed")
    if slot.term_id != menu.term_id:
        raise PolicyViolation(_("该时段不属于本周菜单。"), field="slot")
    if not is_enrolled_on(menu, student, slot):
        raise PolicyViolation(_("孩子没有报名该时段的课后服务。"), field="slot")
    limit = menu.school.choices_per_slot
    if len(items) > limit:
        raise PolicyViolation(_("每个时段最多填报 %d 个志愿。") % limit, field="ranked")
    if len({i.pk for i in items}) != len(items):
        raise PolicyViolation(_("同一活动不能重复填报。"), field="ranked")
    for item in items:
        if item.menu_id != menu.pk or item.slot_id != slot.pk:
            raise PolicyViolation(_("所选活动不在本周该时段的菜单中。"), field="ranked")
        if student.grade.number not in item.grades:
            raise PolicyViolation(_("“%(activity)s”不面向%(grade)s。") % {
                "activity": item.activity.name, "grade": student.grade.name}, field="ranked")
    Choice.objects.filter(menu=menu, student=student, slot=slot).delete()
    choices = Choice.objects.bulk_create([
        Choice(menu=menu, student=student, slot=slot, item=item, rank=rank, chosen_by=user)
        for rank, item in enumerate(items, start=1)
    ])
    audit_record(actor=user, action="scheduling.choices.set", obj=student, school=menu.school,
                 data={"menu": menu.pk, "slot": slot.pk, "ranked": [i.pk for i in items]})
    return choices


# --- Allocation -------------------------------------------------------------------------------

@dataclass
class SeatPlan:
    """What an allocation would write: the classes and their members, per slot."""

    classes: list[TemporaryClass] = field(default_factory=list)
    members: list[list[dict]] = field(default_factory=list)  # per class: placement fields
    stats: dict = field(default_factory=dict)


def _hardship(menu: Menu, student_ids: set[int], choices: int) -> dict[int, float]:
    """How badly each child fared in the school's earlier allocated weeks of the term: the
    average rank lost per slot in which it had ranked choices (unplaced counts as `choices`)."""
    rows = (Placement.objects.filter(menu__term=menu.term, menu__week__lt=menu.week,
                                     student_id__in=student_ids)
            .exclude(had_choices=False).values_list("student_id", "rank"))
    lost: dict[int, list[int]] = defaultdict(list)
    for student_id, rank in rows:
        lost[student_id].append(rank - 1 if rank else choices)
    return {s: sum(v) / len(v) for s, v in lost.items()}


def plan_seats(menu: Menu, seed: str) -> SeatPlan:
    """Solve every slot of the menu; build (unsaved) classes and their members."""
    school = menu.school
    cap, k = school.temp_class_cap, school.choices_per_slot
    plan = SeatPlan()
    slots = {s.pk: s for s in menu.term.slots.all()}
    items = list(menu.items.select_related("activity", "teacher"))
    items_by_slot: dict[int, list[MenuItem]] = defaultdict(list)
    for item in items:
        items_by_slot[item.slot_id].append(item)
    rows = list(Enrolment.slots.through.objects.filter(enrolled_q(menu, "enrolment__")).values_list(
        "serviceslot_id", "enrolment__student_id", "enrolment__student__grade__number",
        "enrolment__student__homeroom_id", "enrolment__application__is_priority",
        "enrolment__start_date", "enrolment__end_date"))
    ranked: dict[tuple[int, int], list[int]] = defaultdict(list)
    for student_id, slot_id, item_id in (Choice.objects.filter(menu=menu).order_by("rank")
                                         .values_list("student_id", "slot_id", "item_id")):
        ranked[(student_id, slot_id)].append(item_id)
    student_ids = {r[1] for r in rows}
    hardship = _hardship(menu, student_ids, k)
    homerooms = {h.pk: h for h in school.homerooms.select_related("grade", "head_teacher")}
    grade_names = dict(school.grades.values_list("number", "name"))
    staff_pool = list(school.staff.filter(active=True, kind=Staff.Kind.TEACHER).order_by("pk"))
    counts = {"placed": 0, "first_choice": 0, "second_choice": 0, "third_choice": 0,
              "other_choice": 0, "unplaced": 0, "priority_unplaced": 0, "no_choice": 0,
              "study_hall": 0, "classes": 0, "study_halls": 0, "without_head_teacher": 0}
    solve_seconds = 0.0

    by_slot: dict[int, list[tuple]] = defaultdict(list)
    for slot_id, student_id, grade, homeroom_id, priority, start, end in rows:
        day = menu.day_of(slots[slot_id].weekday) if slot_id in slots else None
        if day is None or start > day or (end is not None and end < day):
            continue  # not enrolled on that day of the week
        by_slot[slot_id].append((student_id, grade, homeroom_id, bool(priority)))

    for slot_id in sorted(by_slot, key=lambda pk: (slots[pk].weekday, slots[pk].start)):
        slot = slots[slot_id]
        label = f"{WEEKDAYS[slot.weekday]}{slot.get_kind_display()}"
        offers = items_by_slot.get(slot_id, [])
        children = [allocation.Child(id=sid, grade=grade, priority=priority,
                                     ranked=tuple(ranked.get((sid, slot_id), ())),
                                     hardship=hardship.get(sid, 0.0))
                    for sid, grade, _h, priority in by_slot[slot_id]]
        result = allocation.solve(
            children, [allocation.Offer(id=i.pk, seats=min(i.capacity, cap),
                                        grades=frozenset(i.grades)) for i in offers],
            seed=f"{seed}:{slot_id}", choices=k)
        solve_seconds += result.solve_seconds
        busy = {i.teacher_id for i in offers if i.teacher_id}
        free = [s for s in staff_pool if s.pk not in busy]
        class_of_item = {}
        for item in offers:
            # The activity's teacher, else a school teacher free in that slot.
            head = item.teacher or (free.pop(0) if free else None)
            plan.classes.append(TemporaryClass(
                menu=menu, slot=slot, item=item, kind=TemporaryClass.Kind.ACTIVITY,
                name=f"{label}·{item.activity.name}", capacity=min(item.capacity, cap),
                head_teacher=head, room=item.room, start=item.start, end=item.end))
            plan.members.append([])
            class_of_item[item.pk] = len(plan.classes) - 1
            if head is None:
                counts["without_head_teacher"] += 1
        info = {sid: (grade, homeroom_id, priority)
                for sid, grade, homeroom_id, priority in by_slot[slot_id]}
        for sid, (item_id, rank) in result.placed.items():
            plan.members[class_of_item[item_id]].append(
                {"student_id": sid, "rank": rank, "priority": info[sid][2], "had_choices": True})
            counts["placed"] += 1
            key = {1: "first_choice", 2: "second_choice", 3: "third_choice"}.get(rank,
                                                                                "other_choice")
            counts[key] += 1
        unplaced = set(result.unplaced)
        counts["unplaced"] += len(unplaced)
        counts["priority_unplaced"] += sum(1 for sid in unplaced if info[sid][2])
        leftovers = [sid for sid in info if sid not in result.placed]
        counts["no_choice"] += sum(1 for sid in leftovers if sid not in unplaced)
        counts["study_hall"] += len(leftovers)
        _study_halls(plan, menu, slot, label, leftovers, info, unplaced, homerooms,
                     grade_names, cap, free, counts)
    counts["classes"] = len(plan.classes)
    plan.stats = counts | {"seed": seed, "solve_seconds": round(solve_seconds, 4),
                           "slots": len(by_slot), "cap": cap}
    return plan


def _study_halls(plan: SeatPlan, menu: Menu, slot: ServiceSlot, label: str, leftovers,
                 info, unplaced: set[int], homerooms, grade_names, cap: int, free: list[Staff],
                 counts: dict) -> None:
    """托管自习班: the children without a seat in an activity, by grade then homeroom, in as
    few classes under the cap as each grade needs, split evenly; head teachers are free staff,
    the children's own homeroom teachers first."""
    by_grade: dict[int, list[int]] = defaultdict(list)
    for sid in leftovers:
        by_grade[info[sid][0]].append(sid)
    free_ids = {s.pk: s for s in free}
    for grade in sorted(by_grade):
        kids = sorted(by_grade[grade], key=lambda sid: (homerooms[info[sid][1]].name, sid))
        n_classes = math.ceil(len(kids) / cap)
        size, extra = divmod(len(kids), n_classes)
        start = 0
        for number in range(1, n_classes + 1):
            chunk = kids[start:start + size + (1 if number <= extra else 0)]
            start += len(chunk)
            first_homeroom = homerooms[info[chunk[0]][1]]
            own_heads = [homerooms[info[sid][1]].head_teacher_id for sid in chunk]
            head = next((free_ids[h] for h in own_heads if h in free_ids), None)
            head = head or next(iter(free_ids.values()), None)
            if head is not None:
                free_ids.pop(head.pk)
            else:
                counts["without_head_teacher"] += 1
            suffix = f"{number}班" if n_classes > 1 else "班"
            plan.classes.append(TemporaryClass(
                menu=menu, slot=slot, item=None, kind=TemporaryClass.Kind.STUDY_HALL,
                name=f"{label}·{grade_names.get(grade, grade)}托管自习{suffix}",
                capacity=cap, head_teacher=head, room=_("%s教室") % first_homeroom,
                start=slot.start, end=slot.end))
            plan.members.append([{"student_id": sid, "rank": None, "priority": info[sid][2],
                                  "had_choices": sid in unplaced} for sid in chunk])
            counts["study_halls"] += 1


@transaction.atomic
def menu_allocate(*, menu: Menu, user: User, commit: bool = True,
                  seed: str | None = None) -> dict:
    """Allocate every enrolled child of the week (preview with `commit=False`: nothing is
    written but the run's record). Committing writes the classes and placements in bulk,
    marks the menu allocated and notifies guardians and head teachers."""
    started = time.perf_counter()
    menu = Menu.objects.select_for_update().select_related("school", "term").get(pk=menu.pk)
    if menu.status != Status.PUBLISHED:
        raise InvalidTransition(menu.get_status_display(), _("分班"),
                                _("只有已发布、尚未分班的菜单可以分班。"))
    if commit and timezone.now() < menu.choice_deadline:
        raise Conflict(_("选课截止（%s）之前不能确认分班，可以先预览。") % timezone.localtime(
            menu.choice_deadline).strftime("%m月%d日 %H:%M"), code="deadline_not_passed")
    seed = seed or secrets.token_hex(8)
    plan = plan_seats(menu, seed)
    run = AllocationRun.objects.create(menu=menu, seed=seed, committed=commit,
                                       stats=plan.stats, created_by=user)
    if commit:
        classes = TemporaryClass.objects.bulk_create(plan.classes, batch_size=1000)
        Placement.objects.bulk_create([
            Placement(temporary_class=cls, menu=menu, slot_id=cls.slot_id, **member)
            for cls, members in zip(classes, plan.members, strict=True) for member in members
        ], batch_size=2000)
        menu.status = Status.ALLOCATED
        menu.save(update_fields=["status"])
        _notify_placements(menu, classes)
    plan.stats["request_seconds"] = round(time.perf_counter() - started, 3)
    audit_record(actor=user, action="scheduling.menu.allocated" if commit
                 else "scheduling.menu.previewed", obj=menu, school=menu.school,
                 data={"run": run.pk, **plan.stats})
    return plan.stats | {"run": run.pk}


def _notify_placements(menu: Menu, classes: list[TemporaryClass]) -> None:
    """One notice per guardian and child with the child's week, one per head teacher."""
    rows = (Placement.objects.filter(menu=menu)
            .select_related("temporary_class__slot", "student")
            .order_by("student_id", "slot__weekday", "slot__start"))
    week_of: dict[int, list[str]] = defaultdict(list)
    names = {}
    for p in rows:
        c = p.temporary_class
        week_of[p.student_id].append(f"{c.name}（{c.room or _('场地待定')}）")
        names[p.student_id] = p.student.name
    links = GuardianStudent.objects.filter(student_id__in=week_of).select_related(
        "guardian__user")
    week = menu.week.strftime("%m月%d日")
    items = [dict(recipient=link.guardian.user, purpose="scheduling.placement",
                  dedupe_key=f"scheduling.placement:{menu.pk}:{link.student_id}:"
                             f"{link.guardian.user_id}",
                  subject=_("%(student)s %(week)s 起一周分班结果") % {
                      "student": names[link.student_id], "week": week},
                  body="\n".join(week_of[link.student_id]),
                  url=f"/scheduling/students/{link.student_id}/week/?week={menu.week}",
                  payload={"menu": menu.pk, "student": link.student_id})
             for link in links]
    heads = defaultdict(list)
    for c in classes:
        if c.head_teacher_id:
            heads[c.head_teacher_id].append(c)
    teacher_users = dict(Staff.objects.filter(pk__in=heads, user__isnull=False)
                         .values_list("pk", "user_id"))
    users = User.objects.in_bulk(teacher_users.values())
    for staff_id, user_id in teacher_users.items():
        items.append(dict(
            recipient=users[user_id], purpose="scheduling.class_lists",
            dedupe_key=f"scheduling.class_lists:{menu.pk}:{user_id}",
            subject=_("%(week)s 起一周您带的临时班名单") % {"week": week},
            body="\n".join(c.name for c in heads[staff_id]),
            url=f"/scheduling/teachers/week/?week={menu.week}", payload={"menu": menu.pk}))
    _notify_many(items)


# --- After allocation: add, move, swap (the cap holds under concurrency) ----------------------

def lock_class(pk: int) -> TemporaryClass:
    """Lock the class row before counting its members: concurrent adds queue here."""
    return (TemporaryClass.objects.select_for_update(of=("self",))
            .select_related("menu__school", "item", "slot").get(pk=pk))


def _check_seat(cls: TemporaryClass, student: Student) -> None:
    if cls.placements.count() >= cls.capacity:
        raise Conflict(_("“%(name)s”已满（%(cap)s 人）。") % {"name": cls.name,
                                                             "cap": cls.capacity},
                       code="class_full")
    if cls.item is not None and student.grade.number not in cls.item.grades:
        raise PolicyViolation(_("“%(activity)s”不面向%(grade)s。") % {
            "activity": cls.name, "grade": student.grade.name}, field="student")


def _check_enrolled(cls: TemporaryClass, student: Student) -> None:
    if student.school_id != cls.menu.school_id or not is_enrolled_on(cls.menu, student,
                                                                      cls.slot):
        raise PolicyViolation(_("该学生没有报名这一时段的课后服务。"), field="student")


def _notify_change(placement: Placement, action: str) -> None:
    cls = placement.temporary_class
    _notify_many([
        dict(recipient=link.guardian.user, purpose="scheduling.placement_changed",
             dedupe_key=f"scheduling.placement_changed:{placement.pk}:{cls.pk}:{action}:"
                        f"{link.guardian.user_id}:{timezone.now().timestamp()}",
             subject=_("%(student)s 的临时班有调整") % {"student": placement.student.name},
             body=f"{cls.name}（{cls.room or _('场地待定')}）",
             payload={"placement": placement.pk, "class": cls.pk})
        for link in GuardianStudent.objects.filter(student=placement.student)
        .select_related("guardian__user")
    ])


@transaction.atomic
def placement_add(*, temporary_class: TemporaryClass, student: Student, user: User,
                  reason: str = "") -> Placement:
    cls = lock_class(temporary_class.pk)
    _check_enrolled(cls, student)
    if Placement.objects.filter(menu=cls.menu, slot=cls.slot, student=student).exists():
        raise Conflict(_("该学生在这一时段已有临时班，请使用调班。"), code="already_placed")
    _check_seat(cls, student)
    placement = Placement.objects.create(temporary_class=cls, menu=cls.menu, slot=cls.slot,
                                         student=student, source=Placement.Source.MANUAL)
    audit_record(actor=user, action="scheduling.placement.added", obj=placement,
                 school=cls.menu.school, data={"class": cls.pk, "student": student.pk,
                                               "reason": reason})
    _notify_change(placement, "added")
    return placement


@transaction.atomic
def placement_move(*, placement: Placement, to: TemporaryClass, user: User,
                   reason: str = "") -> Placement:
    placement = Placement.objects.select_for_update().select_related("student__grade").get(
        pk=placement.pk)
    cls = lock_class(to.pk)
    if cls.menu_id != placement.menu_id or cls.slot_id != placement.slot_id:
        raise PolicyViolation(_("只能调到同一周、同一时段的临时班。"), field="to")
    if cls.pk == placement.temporary_class_id:
        return placement
    _check_seat(cls, placement.student)
    before = placement.temporary_class_id
    placement.temporary_class = cls
    placement.source = Placement.Source.MANUAL
    placement.rank = None
    placement.save(update_fields=["temporary_class", "source", "rank"])
    audit_record(actor=user, action="scheduling.placement.moved", obj=placement,
                 school=cls.menu.school, data={"from": before, "to": cls.pk, "reason": reason})
    _notify_change(placement, "moved")
    return placement


@transaction.atomic
def placement_swap(*, first: Placement, second: Placement, user: User,
                   reason: str = "") -> tuple[Placement, Placement]:
    """Exchange two children's classes (same week and slot): the counts do not change."""
    a, b = sorted(Placement.objects.select_for_update().select_related("student__grade")
                  .filter(pk__in=[first.pk, second.pk]), key=lambda p: p.pk)
    if a.menu_id != b.menu_id or a.slot_id != b.slot_id:
        raise PolicyViolation(_("只能对调同一周、同一时段的两名学生。"), field="second")
    classes = {c.pk: c for c in (lock_class(pk) for pk in sorted(
        {a.temporary_class_id, b.temporary_class_id}))}
    for p, target in ((a, classes[b.temporary_class_id]), (b, classes[a.temporary_class_id])):
        if target.item is not None and p.student.grade.number not in target.item.grades:
            raise PolicyViolation(_("“%(activity)s”不面向%(grade)s。") % {
                "activity": target.name, "grade": p.student.grade.name}, field="second")
    a.temporary_class_id, b.temporary_class_id = b.temporary_class_id, a.temporary_class_id
    for p in (a, b):
        p.source, p.rank = Placement.Source.MANUAL, None
    Placement.objects.bulk_update([a, b], ["temporary_class", "source", "rank"])
    _audit_many(user, "scheduling.placement.swapped", [a, b], classes[a.temporary_class_id]
                .menu.school, {"pair": [a.pk, b.pk], "reason": reason})
    for p in (a, b):
        p.temporary_class = classes[p.temporary_class_id]
        _notify_change(p, "swapped")
    return a, b
