"""Handoffs at the door, at the same moment, on real PostgreSQL, one connection per tablet:

- the same handoff sent three times (a tablet retrying on a flaky network) is one row and three
  identical replies; the control, without the client_id claim, answers differently;
- two tablets handing the same child to different adults: one wins, the other is told 409
  already_handed_off and a conflict is recorded; the control, without the unique index on
  (session, student), lets the child leave twice;
- 45 children handed off at once are 45 rows.

The authorisation check is slowed down to widen the race window."""

import json
import threading
import time
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from attendance.models import Handoff, HandoffConflict
from attendance.pickup import daily_code
from attendance.services import handoffs
from schools.models import User

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW = 0.2


@pytest.fixture
def slow_check(monkeypatch):
    original = handoffs._verdict

    def check_then_wait(*args, **kwargs):
        verdict = original(*args, **kwargs)
        time.sleep(WINDOW)
        return verdict

    monkeypatch.setattr(handoffs, "_verdict", check_then_wait)


def _race(user: User, session, bodies: list[dict]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(bodies))
    outcomes: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def send(body):
        try:
            client = APIClient()
            client.force_authenticate(User.objects.get(pk=user.pk))
            barrier.wait(timeout=20)
            response = client.post(f"/api/v1/sessions/{session.pk}/handoffs/", body,
                                   format="json")
            outcome = (response.status_code, response.json())
        except Exception as exc:  # a thread's failure is an outcome, not a silent absence
            outcome = (0, {"error": repr(exc)})
        finally:
            with lock:
                outcomes.append(outcome)
            connection.close()

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def _same(body: dict) -> str:
    return json.dumps(body, sort_keys=True)


def _by_guardian(cast, client_id=None):
    return {"student": cast.child.pk, "released_to": "guardian",
            "pickup_person": f"g{cast.guardian.pk}",
            "client_id": client_id or str(uuid.uuid4())}


def test_the_same_handoff_three_times_at_once_is_one_row_and_one_reply(
        cast, session, slow_check):
    body = _by_guardian(cast)
    outcomes = _race(cast.teacher, session, [body] * 3)
    assert Handoff.objects.count() == 1
    assert len(outcomes) == 3 and len({(s, _same(b)) for s, b in outcomes}) == 1
    assert outcomes[0][0] == 201


def test_control_without_the_claim_the_replies_differ(cast, session, slow_check,
                                                      monkeypatch):
    monkeypatch.setattr(handoffs, "claim", lambda **kwargs: None)
    outcomes = _race(cast.teacher, session, [_by_guardian(cast, str(uuid.uuid4()))] * 3)
    assert len(outcomes) == 3 and 0 not in {s for s, _b in outcomes}
    assert len({(s, _same(b)) for s, b in outcomes}) > 1


def _two_adults(cast, session):
    from attendance import services

    adult = services.pickup_adult_add(student=cast.child, user=cast.parent, name="李芳",
                                      relation="奶奶", phone="13900001234")
    return [_by_guardian(cast), {**_by_guardian(cast), "pickup_person": f"a{adult.pk}"}]


def test_two_tablets_releasing_one_child_to_different_adults(cast, session, slow_check):
    outcomes = _race(cast.teacher, session, _two_adults(cast, session))
    assert sorted(s for s, _b in outcomes) == [201, 409]
    loser = next(b for s, b in outcomes if s == 409)
    assert loser["code"] == "already_handed_off"
    assert Handoff.objects.count() == 1 and HandoffConflict.objects.count() == 1


def test_control_without_the_unique_index_the_child_leaves_twice(cast, session, slow_check):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE attendance_handoff DROP CONSTRAINT att_one_handoff")
    try:
        outcomes = _race(cast.teacher, session, _two_adults(cast, session))
        assert sorted(s for s, _b in outcomes) == [201, 201]
        assert Handoff.objects.filter(student=cast.child).count() == 2
    finally:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE attendance_handoff CASCADE")
            cursor.execute("ALTER TABLE attendance_handoff ADD CONSTRAINT att_one_handoff "
                           "UNIQUE (session_id, student_id)")


def test_forty_five_children_handed_off_at_once(cast, session, allocated, late_joiners):
    """Tuesday's study halls: 45 children who joined late, seated (a second hall opened for
    those the first could not hold), released at the same moment by their teacher."""
    import datetime

    from attendance.models import ClassSession
    from attendance.selectors import expected_in
    from scheduling import services as scheduling
    from scheduling.selectors import unseated
    from tests.scheduling.conftest import afternoon

    late_joiners(45, seated=True)
    tuesday = afternoon(cast.term, 2)
    if unseated(allocated):
        scheduling.study_hall_open(menu=allocated, slot=tuesday, grade=3, user=cast.principal)
    day = session.date + datetime.timedelta(days=1)
    joined = set(cast.school.students.filter(name__startswith="插班生").values_list(
        "pk", flat=True))
    rows = [(s, e.student) for s in ClassSession.objects.filter(school=cast.school, date=day)
            for e in expected_in(s) if e.student.pk in joined]
    assert len(rows) == 45
    ClassSession.objects.filter(pk__in={s.pk for s, _ in rows}).update(
        teacher=session.teacher)
    barrier = threading.Barrier(len(rows))
    statuses = []
    lock = threading.Lock()

    def send(s, student):
        try:
            client = APIClient()
            client.force_authenticate(User.objects.get(pk=cast.teacher.pk))
            barrier.wait(timeout=30)
            response = client.post(f"/api/v1/sessions/{s.pk}/handoffs/", {
                "student": student.pk, "released_to": "guardian",
                "pickup_code": daily_code(student.pk, s.date),
                "client_id": str(uuid.uuid4())}, format="json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=row) for row in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses == [201] * 45
    assert Handoff.objects.count() == 45
