"""What the minute-by-minute and door-side reads cost: the late-pickup scan, run every minute
for every school of a city, looks only at the sessions inside their escalation window, with a
few queries each, not a reload of the class; the class list a handoff checks a child against is
kept a few seconds, without ever refusing a child placed a moment ago."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from attendance import services
from attendance.models import ClassSession, LatePickup
from attendance.services.days import CATCH_UP, STEPS


def test_a_session_past_its_window_is_not_scanned_again(cast, session):
    ends = session.ends_at()
    grace = cast.school.pickup_grace_minutes

    def at(minutes):
        return services.late_pickups_scan(now=ends + datetime.timedelta(minutes=minutes))

    assert at(grace + STEPS[3]) > 0  # every step fires at once for a scan that comes late
    assert set(LatePickup.objects.values_list("step", flat=True)) == {1, 2, 3}
    with CaptureQueriesContext(connection) as inside:
        assert at(grace + STEPS[3] + 1) == 0
    beyond = grace + STEPS[3] + CATCH_UP.total_seconds() / 60 + 1
    with CaptureQueriesContext(connection) as after:
        assert at(beyond) == 0
    # Inside the window: one query for the sessions, then per session the class that day (the
    # calendar, the children), leave, marks, handoffs and the late pickups already recorded;
    # not the pickup lists or incidents the tablet's page loads.
    sessions = ClassSession.objects.filter(date=session.date).count()
    assert len(inside) <= 1 + 6 * sessions, "\n".join(q["sql"][:150] for q in inside)
    # Past it: only the query for the sessions.
    assert len(after) == 1, [q["sql"] for q in after]


def test_a_scan_before_the_grace_is_over_does_nothing(cast, session):
    ends = session.ends_at()
    grace = cast.school.pickup_grace_minutes
    assert services.late_pickups_scan(now=ends + datetime.timedelta(minutes=grace - 1)) == 0
    assert not LatePickup.objects.exists()
    # The control: the same scan once the grace is over records the first step.
    assert services.late_pickups_scan(now=ends + datetime.timedelta(minutes=grace)) > 0
    assert set(LatePickup.objects.values_list("step", flat=True)) == {1}


def test_a_child_placed_after_the_class_list_was_kept_is_still_expected(cast, session):
    """The class list a handoff reads is kept a few seconds; a child not in it is looked up
    afresh, so a child placed a moment ago is never refused at the door."""
    from attendance.selectors import _EXPECTED, expected_child

    assert expected_child(session, cast.child.pk) == cast.child
    kept = _EXPECTED[session.pk][1]
    assert cast.child.pk in kept
    # The kept list, as if read before the child was placed: the child is still found.
    _EXPECTED[session.pk] = (_EXPECTED[session.pk][0],
                             {pk: row for pk, row in kept.items() if pk != cast.child.pk})
    assert expected_child(session, cast.child.pk) == cast.child
    # A child of another school is not expected, kept list or not.
    assert expected_child(session, cast.far_child.pk) is None
    with CaptureQueriesContext(connection) as second:
        child = expected_child(session, cast.child.pk)
    assert len(second) == 0  # the kept list answered, with the fields a release reads
    assert (child, child.name, child.bus_rider) == (cast.child, cast.child.name,
                                                   cast.child.bus_rider)
    with CaptureQueriesContext(connection) as deferred:
        assert child.gender == cast.child.gender  # any other field is loaded, not defaulted
    assert len(deferred) == 1


def test_the_page_and_the_scan_agree_on_who_is_on_site(cast):
    """A child marked on leave whose leave was then cancelled is not on site for the tablet's
    page either: the scan (waiting_in) and the page read the same rule."""
    from attendance.selectors import Expected

    cases = {(None, False): True, (None, True): False, ("present", True): True,
             ("late", False): True, ("absent", False): False, ("leave", True): False,
             ("leave", False): False}
    for (status, leave), present in cases.items():
        child = Expected(cast.child, leave, status, None, [], False, False)
        assert child.present is present, (status, leave)
