"""`manage.py seed_demo` also seeds the attendance stage: the recent service days closed with
their history (roll calls, handoffs by every route, incidents, late pickups, one unexplained
absence, service records), made through the services; today's sessions open; every family's
further authorised adult, a walker and bus riders; `teacher` serving 张小红 every day; nothing
new on a second run.

Whatever day the suite runs on: a day with no past service day in reach (the first day of the
term) has no history, and a day without service has no sessions of its own."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from attendance.models import (
    ClassSession,
    DayClose,
    Delegation,
    Handoff,
    HandoffConflict,
    Incident,
    LatePickup,
    Mark,
    PickupAdult,
    Refusal,
    ServiceRecord,
    WalkHomePermission,
)
from attendance.selectors import day_of, expected_in, latest_marks
from notifications.models import Notification
from schools.models import AuditEntry, GuardianStudent, School, Staff, User
from schools.selectors import children_of, current_term, monday_of, service_days
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

COUNTED = [ClassSession, Mark, Handoff, Refusal, HandoffConflict, Incident, LatePickup,
           DayClose, ServiceRecord, PickupAdult, Delegation, WalkHomePermission, AuditEntry,
           Notification]
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


@pytest.fixture
def demo(db, demo_once):
    school = School.objects.get(code="DEMO-P1")
    today = timezone.localdate()
    term = current_term(school.pk, today)
    past = ClassSession.objects.filter(school=school, date__lt=today)
    # The seed reaches back up to three weeks for a past service day of the term.
    reachable = service_days(term, monday_of(today) - datetime.timedelta(days=21),
                             today - datetime.timedelta(days=1))
    return SimpleNamespace(school=school, today=today, term=term, past=past,
                           days=sorted(set(past.values_list("date", flat=True))),
                           has_history=bool(reachable))


def test_the_recent_service_days_are_closed_with_a_roll_call_in_every_session(demo):
    assert bool(demo.days) == demo.has_history
    for day in demo.days:
        closed = DayClose.objects.get(school=demo.school, date=day)
        assert closed.closed_by.username == "principal"
        assert timezone.localtime(closed.closed_at).date() == day  # closed that evening
        state = day_of(demo.school.pk, day)
        assert state.not_released == []
        for session, expected in state.sessions:
            if expected:
                assert session.roll_called_at is not None, session
                assert all(e.status is not None for e in expected), session
                assert session.records.exists(), session
    assert not DayClose.objects.filter(school=demo.school, date__gte=demo.today).exists()


def test_history_has_every_route_incidents_late_pickups_and_one_unexplained_absence(demo):
    if not demo.has_history:
        assert not Handoff.objects.exists() and not Incident.objects.exists()
        return
    handoffs = Handoff.objects.filter(session__in=demo.past)
    routes = {(h.released_to, h.via if h.released_to == "guardian" else "")
              for h in handoffs.only("released_to", "via")}
    assert routes >= {("guardian", "list"), ("guardian", "code"), ("guardian", "delegation"),
                      ("bus", ""), ("self", ""), ("transfer", ""), ("lessons", "")}
    # Noon children with no afternoon place go back to class, not home.
    assert not handoffs.filter(session__slot__kind="noon", released_to="guardian").exists()
    assert handoffs.filter(pickup_adult__isnull=False).exists()  # a grandparent, an aunt…
    noon_to_afternoon = handoffs.filter(released_to="transfer").select_related(
        "session__slot", "transfer_to__slot").first()
    assert (noon_to_afternoon.session.slot.kind, noon_to_afternoon.transfer_to.slot.kind) == (
        "noon", "afternoon")

    incidents = Incident.objects.filter(session__in=demo.past)
    assert incidents.count() >= 3
    assert incidents.filter(acknowledged_at__isnull=False, resolved_at__isnull=False).exists()
    assert Notification.objects.filter(purpose="attendance.incident").exists()

    late = LatePickup.objects.filter(session__in=demo.past)
    assert late.filter(step=1).exists() and late.filter(step=3).exists()
    for row in late.select_related("session"):
        assert row.at >= row.session.ends_at() + datetime.timedelta(
            minutes=demo.school.pickup_grace_minutes)
    assert Notification.objects.filter(purpose="attendance.late_pickup").exists()

    marks = latest_marks(demo.past.values_list("pk", flat=True)).values()
    absent = [m for m in marks if m.status == Mark.Status.ABSENT]
    assert len(absent) == 1
    assert Notification.objects.filter(purpose="attendance.absent",
                                       urgency="alert").exists()
    # Written when it happened: the roll call on the session's day, not at seeding time.
    for session in demo.past.filter(roll_called_at__isnull=False):
        assert timezone.localtime(session.roll_called_at).date() == session.date


def test_every_family_names_a_further_authorised_adult(demo):
    links = GuardianStudent.objects.filter(student__school__district__code="DEMO-D")
    assert links.values("student__school").distinct().count() == 4
    without = links.exclude(student__pickup_adults__revoked_at__isnull=True)
    assert not without.exists()
    for adult in PickupAdult.objects.all()[:200]:
        assert CHINESE_NAME.match(adult.name), adult.name
        assert re.fullmatch(r"1[3-9]\d{9}", adult.phone), adult.phone
    first, second = children_of(User.objects.get(username="parent"))
    assert ({(a.name, a.relation) for a in first.pickup_adults.all()}
            == {(a.name, a.relation) for a in second.pickup_adults.all()})


def test_a_walker_with_permission_and_bus_riders_in_this_weeks_classes(demo):
    assert School.objects.get(pk=demo.school.pk).allows_walk_home
    permission = WalkHomePermission.objects.get(student__school=demo.school)
    assert permission.valid_from <= demo.today <= permission.valid_to
    assert permission.signed_name == GuardianStudent.objects.filter(
        student=permission.student).select_related("guardian").first().guardian.name
    week = ClassSession.objects.filter(school=demo.school, date__gte=monday_of(demo.today),
                                       slot__kind="afternoon")
    walks = week.filter(temporary_class__placements__student=permission.student).first()
    if walks is not None:
        assert next(e for e in expected_in(walks) if e.student == permission.student).walk_home
    rides = week.filter(temporary_class__placements__student__bus_rider=True).first()
    if rides is not None:
        assert any(e.bus for e in expected_in(rides))
    assert week.exists() == (walks is not None) == (rides is not None)


def test_teacher_serves_a_session_of_xiaohong_on_every_service_day_so_far(demo):
    child = list(children_of(User.objects.get(username="parent")))[1]
    assert child.name == "张小红"
    teacher = Staff.objects.get(user__username="teacher")
    sessions = ClassSession.objects.filter(temporary_class__placements__student=child,
                                           date__lte=demo.today)
    days = sorted(set(sessions.values_list("date", flat=True)))
    this_week = [d.date for d in service_days(demo.term, monday_of(demo.today), demo.today)]
    assert set(this_week) <= set(days)
    assert set(demo.days) <= set(days)
    for day in days:
        assert sessions.filter(date=day, teacher=teacher).exists(), day


def test_todays_sessions_are_open_for_roll_call(demo):
    today = ClassSession.objects.filter(school=demo.school, date=demo.today)
    assert not today.filter(roll_called_at__isnull=False).exists()
    assert not Mark.objects.filter(session__in=today).exists()
    assert not Handoff.objects.filter(session__in=today).exists()
    assert not DayClose.objects.filter(school=demo.school, date=demo.today).exists()
    if today.exists():
        assert today.filter(teacher__user__username="teacher").exists()


def test_second_run_creates_nothing(demo):
    before = {model.__name__: model.objects.count() for model in COUNTED}
    call_command("seed_demo", password=DEMO_PASSWORD, quiet=True)
    assert {model.__name__: model.objects.count() for model in COUNTED} == before
