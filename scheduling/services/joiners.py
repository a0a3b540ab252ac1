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
from schools.audit import audit_record, audit_record_many
from schools.errors import Conflict, PolicyViolation
from schools.formats import weekday_name
from schools.models import ServiceSlot, Staff, User

from .. import selectors
from ..events import SchedulingAction, classes_created
from ..models import Menu, Placement, TemporaryClass
from . import notices


def on_enrolments_started(sender, *, enrolments, user, **kwargs) -> None:
    """Receiver of `enrollment.events.enrolments_started`."""
    seat_joiners(enrolments=enrolments, user=user)


def _allocated_menus(term_ids, today: datetime.date) -> list[Menu]:
    """Allocated weeks of these terms that still have a day to run."""
    return list(Menu.objects.filter(term_id__in=term_ids, status=Menu.Status.ALLOCATED,
                                    week__gt=today - datetime.timedelta(days=7))
                .select_related("school", "term").order_by("week"))


def _seat_in_study_halls(menu: Menu, wanted: list[tuple]) -> tuple[list[Placement], int]:
    """Seat each (slot id, student id, grade, priority) in the emptiest study hall of its
    grade and slot that has room: the halls are locked first (a concurrent joiner or move
    queues here before counting), counted once, filled in memory, written in one INSERT.
    Returns the placements and how many found no room."""
    halls = list(TemporaryClass.objects.select_for_update(of=("self",)).filter(
        menu=menu, kind=TemporaryClass.Kind.STUDY_HALL,
        slot_id__in={w[0] for w in wanted}, grade__in={w[2] for w in wanted}).order_by("pk"))
    counts = dict(Placement.objects.filter(temporary_class__in=halls).values("temporary_class")
                  .annotate(n=Count("pk")).values_list("temporary_class", "n"))
    halls_of: dict[tuple[int, int], list[TemporaryClass]] = defaultdict(list)
    for hall in halls:
        halls_of[(hall.slot_id, hall.grade)].append(hall)
    seats, waiting = [], 0
    for slot_id, student_id, grade, priority in wanted:
        room = [h for h in halls_of[(slot_id, grade)] if counts.get(h.pk, 0) < h.capacity]
        if not room:
            waiting += 1
            continue
        hall = min(room, key=lambda h: counts.get(h.pk, 0))
        counts[hall.pk] = counts.get(hall.pk, 0) + 1
        seats.append(Placement(temporary_class=hall, menu=menu, slot_id=slot_id,
                               student_id=student_id, priority=priority,
                               source=Placement.Source.JOINED))
    return Placement.objects.bulk_create(seats), waiting


def seat_joiners(*, enrolments: Sequence, user: User | None) -> list[Placement]:
    """Seat the children of `enrolments` in every allocated week they now belong to: a few
    queries per allocated week, whatever the number of children."""
    if not enrolments:
        return []
    today = timezone.localdate()
    students_of: dict[int, set[int]] = defaultdict(set)
    for e in enrolments:
        students_of[e.term_id].add(e.student_id)
    placed: list[Placement] = []
    waiting: dict[Menu, int] = {}
    for menu in _allocated_menus(students_of, today):
        students = students_of[menu.term_id]
        days = {pk: day for pk, day in selectors.week_slot_days(menu).items() if day >= today}
        seated = set(Placement.objects.filter(menu=menu, student_id__in=students)
                     .values_list("slot_id", "student_id"))
        wanted = [(slot_id, student_id, grade, priority) for slot_id, student_id, grade,
                  _homeroom, priority in slot_enrolments_in_force(menu.term, days, students)
                  if (slot_id, student_id) not in seated]
        if not wanted:
            continue
        seats, waiting[menu] = _seat_in_study_halls(menu, wanted)
        placed += seats
    audit_record_many(actor=user, action=SchedulingAction.PLACEMENT_JOINED, objects=placed,
                      school=lambda p: p.menu.school_id, label=lambda p: _("分班 #%s") % p.pk,
                      data=lambda p: {"class": p.temporary_class_id, "student": p.student_id})
    notices.placements_joined(placed)
    notices.joiners_waiting({menu: n for menu, n in waiting.items() if n})
    return placed


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
    placed = Placement.objects.bulk_create([
        Placement(temporary_class=hall, menu=menu, slot=slot, student=row.student,
                  source=Placement.Source.JOINED) for row in waiting[:cap]])
    audit_record(actor=user, action=SchedulingAction.STUDY_HALL_OPENED, obj=hall,
                 school=menu.school, data={"slot": slot.pk, "grade": grade,
                                           "students": [p.student_id for p in placed]})
    notices.placements_joined(placed)
    classes_created.send(sender=TemporaryClass, menu=menu, classes=[hall])
    return hall
