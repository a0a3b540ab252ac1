"""Children who join after their week was allocated (an approval mid-week, R10): each gets a
seat in their grade's study hall for every enrolled slot still to run that week, under the
cap, in the approval's own transaction. Where no study hall of the grade has room, the
school's principal and office are told, and the classes page offers to open one in a click.
The guardian is told where the child goes; the head teacher's list shows them at once."""

import datetime
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.selectors import slot_enrolments_in_force
from notifications.services import notify_many
from schools.audit import audit_record, audit_record_many
from schools.errors import Conflict, PolicyViolation
from schools.formats import day_label, weekday_name
from schools.models import GuardianStudent, Membership, Role, ServiceSlot, Staff, User

from .. import selectors
from ..events import SchedulingAction
from ..models import Menu, Placement, TemporaryClass


def on_enrolments_started(sender, *, enrolments, user, **kwargs) -> None:
    """Receiver of `enrollment.events.enrolments_started`."""
    seat_joiners(enrolments=enrolments, user=user)


def _allocated_menus(term_ids, today: datetime.date) -> list[Menu]:
    """Allocated weeks of these terms that still have a day to run."""
    return list(Menu.objects.filter(term_id__in=term_ids, status=Menu.Status.ALLOCATED,
                                    week__gt=today - datetime.timedelta(days=7))
                .select_related("school", "term").order_by("week"))


def _halls_with_room(menu: Menu, slot_id: int, grade: int) -> list[TemporaryClass]:
    """The grade's study halls in the slot, locked (concurrent joiners queue here before
    counting), emptiest first, those with a seat left."""
    halls = list(TemporaryClass.objects.select_for_update(of=("self",))
                 .filter(menu=menu, slot_id=slot_id, kind=TemporaryClass.Kind.STUDY_HALL,
                         grade=grade).order_by("pk"))
    counts = dict(Placement.objects.filter(temporary_class__in=halls).values("temporary_class")
                  .annotate(n=Count("pk")).values_list("temporary_class", "n"))
    with_room = [h for h in halls if counts.get(h.pk, 0) < h.capacity]
    return sorted(with_room, key=lambda h: counts.get(h.pk, 0))


def seat_joiners(*, enrolments: Sequence, user: User | None) -> list[Placement]:
    """Seat the children of `enrolments` in every allocated week they now belong to."""
    if not enrolments:
        return []
    today = timezone.localdate()
    students_of: dict[int, set[int]] = defaultdict(set)
    for e in enrolments:
        students_of[e.term_id].add(e.student_id)
    placed: list[Placement] = []
    waiting: dict[Menu, int] = defaultdict(int)
    for menu in _allocated_menus(students_of, today):
        days = {pk: day for pk, day in selectors.week_slot_days(menu).items() if day >= today}
        rows = slot_enrolments_in_force(menu.term, days, students=students_of[menu.term_id])
        seated = set(Placement.objects.filter(menu=menu, student_id__in=students_of[
            menu.term_id]).values_list("slot_id", "student_id"))
        for slot_id, student_id, grade, _homeroom, priority in rows:
            if (slot_id, student_id) in seated:
                continue
            halls = _halls_with_room(menu, slot_id, grade)
            if not halls:
                waiting[menu] += 1
                continue
            placed.append(Placement.objects.create(
                temporary_class=halls[0], menu=menu, slot_id=slot_id, student_id=student_id,
                priority=priority, source=Placement.Source.JOINED))
    for school_id, group in _by_school(placed):
        audit_record_many(actor=user, action=SchedulingAction.PLACEMENT_JOINED, objects=group,
                          school=school_id, label=lambda p: _("分班 #%s") % p.pk,
                          data=lambda p: {"class": p.temporary_class_id,
                                          "student": p.student_id})
    _tell_guardians(placed)
    _tell_the_school(waiting)
    return placed


def _by_school(placements: list[Placement]):
    groups: dict[int, list[Placement]] = defaultdict(list)
    for p in placements:
        groups[p.menu.school_id].append(p)
    return groups.items()


def _tell_guardians(placed: list[Placement]) -> None:
    if not placed:
        return
    rows = (Placement.objects.filter(pk__in=[p.pk for p in placed])
            .select_related("temporary_class", "slot", "student", "menu")
            .order_by("student_id", "menu__week", "slot__weekday", "slot__start"))
    by_child: dict[tuple[int, int], list[Placement]] = defaultdict(list)
    for p in rows:
        by_child[(p.student_id, p.menu_id)].append(p)
    links = defaultdict(list)
    for link in GuardianStudent.objects.filter(
            student_id__in={s for s, _m in by_child}).select_related("guardian__user"):
        links[link.student_id].append(link.guardian.user)
    notify_many([
        dict(recipient=guardian, purpose="scheduling.joined",
             dedupe_key=f"scheduling.joined:{menu_id}:{student_id}:{guardian.pk}:"
                        f"{ps[-1].pk}",
             subject=_("%(student)s 已安排到托管自习班") % {"student": ps[0].student.name},
             body="\n".join(f"{p.temporary_class.name}（{p.temporary_class.room or '—'}）"
                            for p in ps),
             url=f"/scheduling/students/{student_id}/week/?week={ps[0].menu.week}",
             payload={"menu": menu_id, "student": student_id})
        for (student_id, menu_id), ps in by_child.items() for guardian in links[student_id]
    ])


def _school_managers(school_id: int) -> list[User]:
    return list(User.objects.filter(
        pk__in=Membership.objects.filter(school_id=school_id, role__in=[
            Role.PRINCIPAL, Role.OFFICE]).values("user_id")))


def _tell_the_school(waiting: dict[Menu, int]) -> None:
    items = []
    for menu, n in waiting.items():
        for manager in _school_managers(menu.school_id):
            items.append(dict(
                recipient=manager, purpose="scheduling.joiners_waiting",
                dedupe_key=f"scheduling.joiners_waiting:{menu.pk}:{manager.pk}:"
                           f"{timezone.now().timestamp()}",
                subject=_("%(n)s 名分班后加入的学生暂无座位") % {"n": n},
                body=_("%(week)s 起一周：本年级托管自习班已满。请在临时班页面一键新开托管自习班。")
                % {"week": day_label(menu.week)},
                url=f"/scheduling/menus/{menu.pk}/classes/#waiting",
                payload={"menu": menu.pk, "waiting": n}))
    notify_many(items)


@transaction.atomic
def study_hall_open(*, menu: Menu, slot: ServiceSlot, grade: int, user: User) -> TemporaryClass:
    """One click on the classes page: a new study hall for the grade in the slot, with every
    child of the grade still waiting for a seat there (up to the cap), a free teacher as its
    head and a homeroom's classroom."""
    menu = Menu.objects.select_for_update().select_related("school", "term").get(pk=menu.pk)
    if menu.status != Menu.Status.ALLOCATED:
        raise Conflict(_("只有已分班的一周可以新开托管自习班。"), code="not_allocated")
    if slot.term_id != menu.term_id:
        raise PolicyViolation(_("该时段不属于本周菜单。"), field="slot")
    waiting = [row for row in selectors.unseated(menu) if row.slot.pk == slot.pk
               and row.student.grade.number == grade]
    if not waiting:
        raise Conflict(_("该年级在这一时段没有等待安排的学生。"), code="nobody_waiting")
    cap = menu.school.temp_class_cap
    busy = set(TemporaryClass.objects.filter(menu=menu, slot=slot, head_teacher__isnull=False)
               .values_list("head_teacher_id", flat=True))
    head = (Staff.objects.filter(school=menu.school, active=True, kind=Staff.Kind.TEACHER)
            .exclude(pk__in=busy).order_by("pk").first())
    number = TemporaryClass.objects.filter(menu=menu, slot=slot, grade=grade,
                                           kind=TemporaryClass.Kind.STUDY_HALL).count() + 1
    first = waiting[0].student
    hall = TemporaryClass.objects.create(
        menu=menu, slot=slot, kind=TemporaryClass.Kind.STUDY_HALL, grade=grade,
        name=f"{weekday_name(slot.weekday)}{slot.get_kind_display()}·"
             f"{first.grade.name}托管自习{number}班",
        capacity=cap, head_teacher=head,
        room=_("%s教室") % first.homeroom if first.homeroom_id else "",
        start=slot.start, end=slot.end)
    placed = [Placement.objects.create(temporary_class=hall, menu=menu, slot=slot,
                                       student=row.student, source=Placement.Source.JOINED)
              for row in waiting[:cap]]
    audit_record(actor=user, action=SchedulingAction.STUDY_HALL_OPENED, obj=hall,
                 school=menu.school, data={"slot": slot.pk, "grade": grade,
                                           "students": [p.student_id for p in placed]})
    _tell_guardians(placed)
    return hall
