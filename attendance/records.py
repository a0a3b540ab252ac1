"""The records R9 asks for, read from the sessions: a temporary class's weekly activity record
(the head teacher's, built from the daily service records and the roll) and a month's table of
teachers' service attendance. Both come out as plain data, the same shape whether computed now
or read from the snapshot archived at term end (ClassWeekArchive) or published to the staff
(TeacherMonthTable)."""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from scheduling.selectors import classes_matching
from schools.formats import time_label
from schools.models import MANAGER_ROLES, User
from schools.selectors import district_ids_for, school_ids_for

from .models import (
    ClassSession,
    ClassWeekArchive,
    Incident,
    LatePickup,
    Mark,
    ServiceRecord,
    TeacherMonthTable,
)
from .selectors import roll_of

Status = Mark.Status
TOTALS = ("expected", "present", "late", "absent", "leave", "late_pickups")


def class_weeks(classes) -> dict[int, dict]:
    """Each class's week: for each session, who served, the roll (expected, present, absent,
    late, on leave), the service record, incidents and late pickups; and the week's totals.
    The archived snapshot where there is one. The classes' sessions, records, incidents and
    late pickups are read together; each session's roll costs a few queries of its own."""
    classes = list(classes)
    archives = {a.temporary_class_id: a for a in ClassWeekArchive.objects.filter(
        temporary_class__in=classes)}
    live = [cls for cls in classes if cls.pk not in archives]
    sessions = list(ClassSession.objects.filter(temporary_class__in=live)
                    .select_related("teacher").order_by("date", "start"))
    late = defaultdict(set)
    for session_id, student_id in LatePickup.objects.filter(
            session__in=sessions).values_list("session_id", "student_id"):
        late[session_id].add(student_id)
    incidents = defaultdict(list)
    for i in Incident.objects.filter(session__in=sessions).select_related("student"):
        incidents[i.session_id].append(i)
    records = {}  # the latest record of each session supersedes the earlier ones
    for r in (ServiceRecord.objects.filter(session__in=sessions).select_related("written_by")
              .order_by("occurred_at", "id")):
        records[r.session_id] = r
    by_class = {cls.pk: cls for cls in live}
    lines = defaultdict(list)
    for s in sessions:
        s.temporary_class = by_class[s.temporary_class_id]  # its roll reads the class in hand
        lines[s.temporary_class_id].append(_session_line(
            s, records.get(s.pk), incidents[s.pk], len(late[s.pk])))
    weeks = {pk: a.data | {"archived_at": a.archived_at.isoformat()}
             for pk, a in archives.items()}
    for cls in live:
        weeks[cls.pk] = {
            "class": cls.name, "room": cls.room, "week": cls.menu.week.isoformat(),
            "term": cls.menu.term.name, "school": cls.menu.term.school.name,
            "head_teacher": cls.head_teacher.name if cls.head_teacher else "",
            "sessions": lines[cls.pk],
            "totals": {k: sum(line[k] for line in lines[cls.pk]) for k in TOTALS},
            "archived_at": None}
    return weeks


def _session_line(s, record, incidents, late_pickups: int) -> dict:
    roll = roll_of(s)
    statuses = [status for status, _leave in roll]
    return {
        "date": s.date.isoformat(), "start": time_label(s.start), "end": time_label(s.end),
        "teacher": s.teacher.name if s.teacher else "", "substitute": s.substitute,
        "roll_called": s.roll_called_at is not None, "expected": len(roll),
        "present": statuses.count(Status.PRESENT) + statuses.count(Status.LATE),
        "late": statuses.count(Status.LATE), "absent": statuses.count(Status.ABSENT),
        "leave": sum(1 for _status, leave in roll if leave),
        "content": record.content if record else "", "notes": record.notes if record else "",
        "written_by": (record.written_by.display_name or record.written_by.username)
        if record else "",
        "incidents": [{"student": i.student.name, "kind": i.get_kind_display(), "note": i.note,
                       "resolved": i.resolved_at is not None} for i in incidents],
        "late_pickups": late_pickups}


def sees_children_in_record(user: User, temporary_class) -> bool:
    """Whether the reader sees which child an incident concerned and its note (a child's
    health, an injury): the class's head teacher and the school's managers, who act on them.
    A substitute and the district read the record's counts and kinds only."""
    if user.is_superuser:
        return True
    head = temporary_class.head_teacher
    return ((head is not None and head.user_id == user.pk)
            or temporary_class.menu.term.school_id in school_ids_for(user, MANAGER_ROLES))


def _without_children(line: dict) -> dict:
    """The line without what names a child: incidents keep their kind, and the record's
    "anything unusual" (free text that may name one) is only said to exist."""
    return {**line, "notes": "", "notes_withheld": bool(line["notes"]),
            "incidents": [{"student": "", "kind": i["kind"], "note": "",
                           "resolved": i["resolved"]} for i in line["incidents"]]}


def head_teacher_week(temporary_class, among: QuerySet, *, children: bool = True) -> dict:
    """The head teacher's weekly activity record (R9: 班主任每周填写活动记录): every temporary
    class they head in that week's menu, of those `among` (what the reader may see: a
    substitute reads the classes they served, not the rest of the head teacher's week),
    session by session in the order they met, each from its archive once archived. A class
    without a head teacher stands alone. Without `children` (see sees_children_in_record), an
    incident shows its kind and whether it was resolved, not the child or the note, and the
    record's notes on anything unusual are withheld."""
    head = temporary_class.head_teacher_id
    classes = (among.filter(menu_id=temporary_class.menu_id, head_teacher_id=head)
               if head else [temporary_class])
    weeks = class_weeks(classes)
    lines = sorted(({**(line if children else _without_children(line)), "class": week["class"],
                     "room": week["room"]}
                    for week in weeks.values() for line in week["sessions"]),
                   key=lambda line: (line["date"], line["start"]))
    first = weeks[temporary_class.pk]
    return {**first, "classes": [w["class"] for w in weeks.values()], "sessions": lines,
            "totals": {k: sum(line[k] for line in lines) for k in TOTALS},
            "archived_at": first["archived_at"] if all(w["archived_at"] for w in weeks.values())
            else None}


def class_weeks_visible_to(user: User) -> QuerySet:
    """The temporary classes whose weekly record `user` may read: the classes they head or
    served a session of, every class of a school they manage, and of their district (the
    archive is kept for inspection). Not guardians: the record names other children."""
    if not user.is_authenticated:
        return classes_matching(Q(pk__in=[]))
    served = ClassSession.objects.filter(teacher__user=user).values("temporary_class_id")
    return classes_matching(
        Q(head_teacher__user=user) | Q(pk__in=served)
        | Q(menu__term__school_id__in=school_ids_for(user, MANAGER_ROLES))
        | Q(menu__term__school__district_id__in=district_ids_for(user)))


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def teacher_month(school_id: int, month: datetime.date,
                  today: datetime.date | None = None) -> list[dict]:
    """Each teacher's service in the month up to `today`: the sessions they served (a roll was
    called, so the session took place), the class-hours of those sessions' slots, and how many
    of them they served as a substitute. One query."""
    rows: dict[int, dict] = {}
    for s in (ClassSession.objects.filter(
            school_id=school_id, date__gte=month, date__lt=next_month(month),
            date__lte=today or timezone.localdate(), roll_called_at__isnull=False,
            teacher__isnull=False).select_related("teacher", "slot")):
        row = rows.setdefault(s.teacher_id, {
            "staff": s.teacher_id, "teacher": s.teacher.name, "sessions": 0,
            "class_hours": Decimal(0), "substitute_sessions": 0, "days": set()})
        row["sessions"] += 1
        row["class_hours"] += s.slot.class_hours
        row["substitute_sessions"] += 1 if s.substitute else 0
        row["days"].add(s.date)
    return [{**row, "class_hours": str(row["class_hours"]), "days": len(row["days"])}
            for row in sorted(rows.values(), key=lambda r: r["teacher"])]


def month_table(school_id: int, month: datetime.date) -> TeacherMonthTable | None:
    return TeacherMonthTable.objects.filter(school_id=school_id, month=month).first()
