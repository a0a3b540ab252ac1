"""Who sees which sessions, and what a session, a day and a child's term look like.

A session is seen by its serving teacher, the temporary class's head teacher, and the school's
principal, office and duty leader; anything else is a 404. Published reads for billing and
oversight are at the end."""

import datetime
import functools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.shortcuts import get_object_or_404

from enrollment.selectors import (
    enrolments_in_force,
    leave_matching,
    leaves_between,
    leaves_on,
)
from scheduling.selectors import class_members_on
from schools.db import Sql, fetch_one_prepared
from schools.models import CARE_ROLES, DUTY_ROLES, Staff, Student, User
from schools.selectors import (
    children_of,
    register_student_scope,
    school_ids_for,
    students_visible_to,
)

from .models import (
    ClassSession,
    DayClose,
    Handoff,
    HandoffConflict,
    Incident,
    LatePickup,
    Mark,
    Refusal,
)
from .pickup import Adult, pickup_for


@register_student_scope
def _substitute_students(user: User) -> Q | None:
    """A teacher serving a session (a substitute included) reaches that class's children (a
    subquery: no query of its own)."""
    return Q(pk__in=ClassSession.objects.filter(teacher__user=user).values(
        "temporary_class__placements__student_id"))


# What a session is loaded with for its pages and most actions.
SESSION_RELATED = ("temporary_class", "slot", "teacher", "school")


def sessions_visible_to(user: User) -> QuerySet[ClassSession]:
    if not user.is_authenticated:
        return ClassSession.objects.none()
    base = ClassSession.objects.select_related(*SESSION_RELATED)
    if user.is_superuser:
        return base
    return base.filter(Q(teacher__user=user) | Q(temporary_class__head_teacher__user=user)
                       | Q(school_id__in=school_ids_for(user, DUTY_ROLES)))


def session_for_teacher(user: User, pk: int, *,
                        related: tuple[str, ...] = SESSION_RELATED) -> ClassSession:
    """A session its serving teacher acts on (roll call, incidents, handoffs, the record).
    The serving teacher is one of those who see it (`sessions_visible_to`), so one lookup by
    teacher answers both: no membership query, no OR of three scopes to plan. `related`: the
    rows loaded with it (a handoff needs none of them on its way to a release)."""
    if not user.is_authenticated:
        raise Http404
    if not related and not user.is_superuser:
        return _session_alone(user, pk)
    # select_related() without names would follow every foreign key.
    sessions = ClassSession.objects.select_related(*related) if related else ClassSession.objects
    if not user.is_superuser:
        sessions = sessions.filter(teacher__user=user)
    return get_object_or_404(sessions, pk=pk)


@functools.cache
def _session_alone_sql() -> tuple[str, list[str]]:
    """The statement of `ClassSession.objects.filter(teacher__user=user).get(pk=pk)` and the
    fields it reads, written once from the models."""
    quote = connection.ops.quote_name
    fields = ClassSession._meta.concrete_fields
    columns = ", ".join(f"s.{quote(f.column)}" for f in fields)
    return (f"SELECT {columns} FROM {quote(ClassSession._meta.db_table)} s "
            f"JOIN {quote(Staff._meta.db_table)} t ON t.id = s.teacher_id "
            "WHERE s.id = %s AND t.user_id = %s", [f.attname for f in fields])


def _session_alone(user: User, pk: int) -> ClassSession:
    """A serving teacher's session with nothing related: the handoff's lookup, made at every
    release of the 16:30 rush, where building the ORM's query costs more than running it."""
    sql, names = _session_alone_sql()
    row = fetch_one_prepared(Sql(sql, (pk, user.pk)))
    if row is None:
        raise Http404
    return ClassSession.from_db(connection.alias, names, row)


def schools_whose_day(user: User) -> set[int]:
    """The schools whose day `user` may see and close (principal, office, duty leader)."""
    return school_ids_for(user, DUTY_ROLES)


def on_site(mark: str | None, leave: bool) -> bool:
    """Whether a child is on site, as far as anyone knows, from their latest mark: marked
    present or late, or not marked at all and not on leave (until roll is taken, everyone
    expected is assumed there)."""
    if mark is None:
        return not leave
    return mark in (Mark.Status.PRESENT, Mark.Status.LATE)


@dataclass
class Expected:
    """A child expected in a session, as the teacher's tablet shows them."""

    student: Student
    leave: bool
    status: str | None  # the latest mark, "leave" if on leave and unmarked, None before roll
    handoff: Handoff | None
    adults: list[Adult]
    bus: bool
    walk_home: bool
    open_incidents: list[Incident] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return on_site(self.status, self.leave)

    @property
    def unexplained(self) -> bool:
        return self.status == Mark.Status.ABSENT and not self.leave


def latest_marks(session_ids) -> dict[tuple[int, int], Mark]:
    """The latest mark of each child in the sessions: {(session id, student id): mark}."""
    marks = (Mark.objects.filter(session_id__in=list(session_ids))
             .order_by("session_id", "student_id", "-occurred_at", "-id")
             .distinct("session_id", "student_id"))
    return {(m.session_id, m.student_id): m for m in marks}


def absences_in_term(term_id: int, students=None) -> set[tuple[int, datetime.date, int]]:
    """The (student, date, slot) of every session of the term whose latest mark for the child
    is `absent`, with or without leave (leave is enrollment's record, read there): one query."""
    marks = Mark.objects.filter(session__term_id=term_id)
    if students is not None:
        marks = marks.filter(student__in=students)
    latest = (marks.order_by("session_id", "student_id", "-occurred_at", "-id")
              .distinct("session_id", "student_id")
              .values("student_id", "session__date", "session__slot_id", "status"))
    return {(m["student_id"], m["session__date"], m["session__slot_id"]) for m in latest
            if m["status"] == Mark.Status.ABSENT}


def _class_day(session: ClassSession) -> tuple[list[Student], set[int], dict[int, Mark]]:
    """The session's children that day, those on leave, and each one's latest mark."""
    children = list(class_members_on(session.temporary_class, session.date))
    if not children:
        return [], set(), {}
    on_leave = set(leaves_on(session.date, slot=session.slot_id,
                             students=[c.pk for c in children])
                   .values_list("student_id", flat=True))
    marks = {student: mark for (_, student), mark in latest_marks([session.pk]).items()}
    return children, on_leave, marks


def _status(mark: Mark | None, leave: bool) -> str | None:
    """A child's status on the roll: the latest mark; "leave" if on leave and unmarked; None
    before the roll is taken."""
    return mark.status if mark else (Mark.Status.LEAVE if leave else None)


def roll_of(session: ClassSession) -> list[tuple[str | None, bool]]:
    """The roll's figures: each expected child's status and whether they are on leave, without
    what the tablet's page adds (three queries once the session comes with its class)."""
    children, on_leave, marks = _class_day(session)
    return [(_status(marks.get(c.pk), c.pk in on_leave), c.pk in on_leave) for c in children]


def expected_in(session: ClassSession) -> list[Expected]:
    """The children of the session's class on its date, with their leave, latest mark,
    handoff, who may take them, bus and walk-home, and open incidents. A fixed number of
    queries whatever the class size."""
    children, on_leave, marks = _class_day(session)
    handoffs = {h.student_id: h for h in session.handoffs.all()}
    incidents = defaultdict(list)
    for incident in session.incidents.filter(resolved_at__isnull=True):
        incidents[incident.student_id].append(incident)
    pickup = pickup_for(children, session.date, allows_walk_home=session.school.allows_walk_home)
    result = []
    for child in children:
        leave = child.pk in on_leave
        result.append(Expected(
            child, leave, _status(marks.get(child.pk), leave),
            handoffs.get(child.pk), pickup[child.pk].adults, child.bus_rider,
            pickup[child.pk].walk_home, incidents.get(child.pk, [])))
    return result


def waiting_in(session: ClassSession) -> list[Student]:
    """The children on site and not yet released, for the late-pickup scan that asks it of
    every ended session each minute: four queries once the session comes with its class's
    menu, term and slot, without the pickup lists and incidents the tablet's page needs."""
    children, on_leave, marks = _class_day(session)
    if not children:
        return []
    released = set(session.handoffs.values_list("student_id", flat=True))
    return [c for c in children if c.pk not in released and on_site(
        marks[c.pk].status if c.pk in marks else None, c.pk in on_leave)]


# The children expected in each session, as a handoff or an incident asks about one of them:
# session id -> (until when the answer is kept, each child's id -> the fields a release or an
# incident reads). Forty-five children are handed over within minutes, so the class is asked
# for once, not once per child. A child who is not in the kept answer is looked up afresh (a
# child placed a moment ago is never refused); one who left the class a moment ago may still be
# handed over for the time kept, to a person the check has authorised.
_EXPECTED: dict[int, tuple[float, dict[int, tuple]]] = {}
EXPECTED_KEPT_SECONDS = 30.0
EXPECTED_KEPT_SESSIONS = 5000
# What a release, a refusal or an incident reads of the child; any other field is loaded when
# first read (a deferred field), never taken from a default.
EXPECTED_FIELDS = ("id", "school_id", "name", "bus_rider")


def _expected_rows(session: ClassSession) -> dict[int, tuple]:
    in_force = enrolments_in_force(session.term_id, session.date, slot=session.slot_id)
    rows = {row[0]: row for row in Student.objects.filter(
        placements__temporary_class_id=session.temporary_class_id,
        pk__in=in_force.values("student_id")).order_by().values_list(*EXPECTED_FIELDS)}
    if len(_EXPECTED) >= EXPECTED_KEPT_SESSIONS:
        _EXPECTED.clear()
    _EXPECTED[session.pk] = (time.monotonic() + EXPECTED_KEPT_SECONDS, rows)
    return rows


def expected_forget() -> None:
    """Drop the kept class lists (tests start from nothing)."""
    _EXPECTED.clear()


def expected_child(session: ClassSession, student_id) -> Student | None:
    """The child, if expected in the session: placed in its class and enrolled in its slot on
    its date (a session exists only for a date its slot runs). The class's list is kept for
    a few seconds (see _EXPECTED) with the fields a release reads, so a child found in it
    costs no query; each call builds its own instance."""
    kept = _EXPECTED.get(session.pk)
    if kept is None or kept[0] < time.monotonic() or student_id not in kept[1]:
        rows = _expected_rows(session)
    else:
        rows = kept[1]
    row = rows.get(student_id)
    return None if row is None else Student.from_db(Student.objects.db, EXPECTED_FIELDS, row)


def expected_brief(session: ClassSession) -> list[dict]:
    """The children expected in a session and their leave, for lists (two queries)."""
    children = list(class_members_on(session.temporary_class, session.date))
    on_leave = set(leaves_on(session.date, slot=session.slot_id,
                             students=[c.pk for c in children])
                   .values_list("student_id", flat=True))
    return [{"student": c.pk, "name": c.name, "leave": c.pk in on_leave} for c in children]


def sessions_of_day(school_id: int, day: datetime.date) -> QuerySet[ClassSession]:
    return (ClassSession.objects.filter(school_id=school_id, date=day)
            .select_related("temporary_class__menu__term", "slot", "teacher", "school")
            .order_by("start", "temporary_class__name"))


@dataclass
class Day:
    """A school's day (API: GET /schools/{id}/days/{date}/)."""

    school_id: int
    date: datetime.date
    sessions: list[tuple[ClassSession, list[Expected]]]
    incidents: list[Incident]
    refusals: list[Refusal]
    conflicts: list[HandoffConflict]
    late_pickups: list[LatePickup]
    late_synced: list[Handoff]
    closed: DayClose | None

    def children(self):
        for session, expected in self.sessions:
            for e in expected:
                yield session, e

    @property
    def not_released(self) -> list[tuple[ClassSession, Expected]]:
        return [(s, e) for s, e in self.children() if e.present and e.handoff is None]

    @property
    def not_released_by_session(self) -> list[tuple[ClassSession, list[Expected]]]:
        return [(s, waiting) for s, expected in self.sessions
                if (waiting := [e for e in expected if e.present and e.handoff is None])]

    @property
    def unexplained(self) -> list[tuple[ClassSession, Expected]]:
        return [(s, e) for s, e in self.children() if e.unexplained]


def day_of(school_id: int, day: datetime.date) -> Day:
    sessions = list(sessions_of_day(school_id, day))
    ids = [s.pk for s in sessions]
    return Day(
        school_id, day, [(s, expected_in(s)) for s in sessions],
        list(Incident.objects.filter(session_id__in=ids).select_related("student", "session")),
        list(Refusal.objects.filter(session_id__in=ids).select_related("student", "teacher")),
        list(HandoffConflict.objects.filter(session_id__in=ids)
             .select_related("student", "handoff", "teacher")),
        list(LatePickup.objects.filter(session_id__in=ids).select_related("student")),
        list(Handoff.objects.filter(session_id__in=ids, synced_late=True)
             .select_related("student")),
        DayClose.objects.filter(school_id=school_id, date=day).select_related(
            "closed_by").first())


def is_day_closed(school_id: int, day: datetime.date) -> bool:
    return DayClose.objects.filter(school_id=school_id, date=day).exists()


# --- A child's attendance (guardians, the school's staff) -----------------------------------

def children_for_attendance(user: User) -> QuerySet[Student]:
    """The children whose attendance `user` may read: a guardian's own; staff who look after
    children, those they see (a teacher their classes, the principal the school); not
    finance, not the district."""
    return students_visible_to(user).filter(
        Q(pk__in=children_of(user).values("pk"))
        | Q(school_id__in=school_ids_for(user, CARE_ROLES)))


@dataclass
class SessionLine:
    session: ClassSession
    status: str | None
    leave: bool
    handoff: Handoff | None
    incidents: list[Incident]


def attendance_of(student: Student, start: datetime.date, end: datetime.date
                  ) -> list[SessionLine]:
    """Each session of the child between two dates (those they belonged to): the mark, the
    leave, who took them and when, incidents."""
    sessions = list(ClassSession.objects.filter(
        temporary_class__placements__student=student, date__range=(start, end))
        .select_related("temporary_class", "slot").order_by("date", "start"))
    ids = [s.pk for s in sessions]
    marks = latest_marks(ids)
    handoffs = {h.session_id: h for h in Handoff.objects.filter(session_id__in=ids,
                                                                student=student)}
    incidents = defaultdict(list)
    for incident in Incident.objects.filter(session_id__in=ids, student=student):
        incidents[incident.session_id].append(incident)
    leaves = {(lv.date, lv.slot_id) for lv in leaves_between(start, end, students=[student])}
    lines = []
    for s in sessions:
        mark = marks.get((s.pk, student.pk))
        leave = (s.date, s.slot_id) in leaves
        lines.append(SessionLine(s, mark.status if mark else (
            Mark.Status.LEAVE if leave else None), leave, handoffs.get(s.pk),
            incidents.get(s.pk, [])))
    return lines


# --- Published reads for billing -------------------------------------------------------------

@dataclass(frozen=True)
class Served:
    """A session served, as teacher pay reads it (R12): who served it, of which kind of staff
    and provider, and the slot's class-hours."""

    date: datetime.date
    teacher_id: int
    teacher_name: str
    staff_kind: str
    provider_name: str
    class_hours: Decimal
    substitute: bool


def sessions_served(school_id: int, start: datetime.date, end: datetime.date) -> list[Served]:
    """The school's sessions from `start` to `end` (both included) that took place: a roll was
    called, with the teacher who served them (a substitute counts for the substitute, R9).
    One query."""
    rows = (ClassSession.objects.filter(school_id=school_id, date__range=(start, end),
                                        roll_called_at__isnull=False, teacher__isnull=False)
            .order_by("date", "start", "id")
            .values_list("date", "teacher_id", "teacher__name", "teacher__kind",
                         "teacher__provider_name", "slot__class_hours", "substitute"))
    return [Served(*row) for row in rows]


def serving_staff_by_school(term_ids, until: datetime.date) -> dict[int, dict[str, int]]:
    """Per school: the staff who served a session of the terms (a roll was called) up to
    `until`, by kind (own teachers, external providers' staff), each counted once. One
    query."""
    found: dict[int, dict[str, int]] = {}
    for row in (ClassSession.objects.filter(term_id__in=list(term_ids), date__lte=until,
                                            roll_called_at__isnull=False,
                                            teacher__isnull=False)
                .values("school_id", "teacher__kind")
                .annotate(n=Count("teacher", distinct=True))):
        found.setdefault(row["school_id"], {})[row["teacher__kind"]] = row["n"]
    return found


def _latest_mark_rows() -> QuerySet[Mark]:
    """Each child's latest mark in each session (a correction is a later mark), as rows to
    aggregate in SQL: what the district's figures count (`latest_marks` reads them one by
    one for a few sessions)."""
    later = Mark.objects.filter(
        Q(occurred_at__gt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), pk__gt=OuterRef("pk")),
        session=OuterRef("session"), student=OuterRef("student"))
    return Mark.objects.filter(~Exists(later))


@dataclass
class CareFacts:
    """A term's care so far (R8), for oversight: child-sessions with a roll call, absences
    without leave, incidents and late pickups (step 1: the guardians were messaged)."""

    child_sessions: int = 0
    unexplained: int = 0
    incidents: int = 0
    late_pickups: int = 0


def care_facts(term_ids, until: datetime.date) -> dict[int, CareFacts]:
    """Per term up to `until`, in SQL aggregates (three queries whatever the number of terms or
    children): a child's status in a session is their latest mark; an absence is unexplained
    when no leave was reported for it."""
    ids = list(term_ids)
    facts = {t: CareFacts() for t in ids}
    leave = leave_matching(OuterRef("student"), OuterRef("session__date"),
                           OuterRef("session__slot"))
    for row in (_latest_mark_rows().filter(session__term_id__in=ids, session__date__lte=until)
                .annotate(excused=Exists(leave))
                .values("session__term_id")
                .annotate(n=Count("pk"), unexplained=Count(
                    "pk", filter=Q(status=Mark.Status.ABSENT, excused=False)))):
        facts[row["session__term_id"]].child_sessions = row["n"]
        facts[row["session__term_id"]].unexplained = row["unexplained"]
    for row in (Incident.objects.filter(session__term_id__in=ids, session__date__lte=until)
                .values("session__term_id").annotate(n=Count("pk"))):
        facts[row["session__term_id"]].incidents = row["n"]
    for row in (LatePickup.objects.filter(session__term_id__in=ids, session__date__lte=until,
                                          step=1)
                .values("session__term_id").annotate(n=Count("pk"))):
        facts[row["session__term_id"]].late_pickups = row["n"]
    return facts


def month_attendance(term_ids, until: datetime.date) -> list[dict]:
    """Per school and month of the terms up to `until` (for the district's workbook): child-
    sessions with a roll call and how many were present, on leave or absent (each child's
    latest mark), and sessions held against those served by a teacher. Two queries."""
    rows: dict[tuple[int, datetime.date], dict] = {}
    for row in (_latest_mark_rows().filter(session__term_id__in=list(term_ids),
                                           session__date__lte=until)
                .annotate(month=TruncMonth("session__date"))
                .values("session__school_id", "month")
                .annotate(n=Count("pk"),
                          present=Count("pk", filter=Q(status__in=[Mark.Status.PRESENT,
                                                                   Mark.Status.LATE])),
                          leave=Count("pk", filter=Q(status=Mark.Status.LEAVE)),
                          absent=Count("pk", filter=Q(status=Mark.Status.ABSENT)))):
        rows[(row["session__school_id"], row["month"])] = {
            "school": row["session__school_id"], "month": row["month"],
            "child_sessions": row["n"], "present": row["present"], "leave": row["leave"],
            "absent": row["absent"], "sessions": 0, "served": 0}
    for row in (ClassSession.objects.filter(term_id__in=list(term_ids), date__lte=until)
                .annotate(month=TruncMonth("date")).values("school_id", "month")
                .annotate(n=Count("pk"), served=Count("pk", filter=Q(
                    roll_called_at__isnull=False, teacher__isnull=False)))):
        entry = rows.setdefault((row["school_id"], row["month"]), {
            "school": row["school_id"], "month": row["month"], "child_sessions": 0,
            "present": 0, "leave": 0, "absent": 0})
        entry["sessions"], entry["served"] = row["n"], row["served"]
    return [rows[k] for k in sorted(rows)]
