"""Fifty principals' requests adding fifty different late joiners to a temporary class with
five seats left, at the same moment, on real PostgreSQL: the row lock on the class makes them
queue, so exactly five get in and the class ends exactly at its capacity. The seat check is
slowed down in both tests to widen the race window; the control, without the lock, shows the
test would catch an overbooking."""

import threading
import time

import pytest
from django.db import connection
from django.db.models import Count
from rest_framework.test import APIClient

from scheduling.models import Placement, TemporaryClass
from scheduling.services import placements
from schools.models import User
from tests.scheduling.conftest import class_of

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 50
SEATS_LEFT = 5
WINDOW = 0.3  # seconds between the seat count and the insert: wide, so the control races


@pytest.fixture
def slow_seat_check(monkeypatch):
    """Sleep after the seat check (when it passes), before the caller inserts."""
    original = placements._check_seat

    def check_then_wait(cls, student):
        original(cls, student)
        time.sleep(WINDOW)

    monkeypatch.setattr(placements, "_check_seat", check_then_wait)


@pytest.fixture
def five_seats_left(cast, allocated, activities):
    """Monday's basketball class (sibling sits there), its capacity set to leave five seats."""
    cls = class_of(allocated, activities.sports, 1)
    TemporaryClass.objects.filter(pk=cls.pk).update(
        capacity=cls.placements.count() + SEATS_LEFT)
    cls.refresh_from_db()
    return cls


def _race(principal: User, cls: TemporaryClass, students) -> list[tuple[int, str | None]]:
    barrier = threading.Barrier(len(students))
    outcomes: list[tuple[int, str | None]] = []
    url = f"/api/v1/temporary-classes/{cls.pk}/members/"

    def add(student_id: int):
        try:
            client = APIClient()
            client.force_authenticate(User.objects.get(pk=principal.pk))
            barrier.wait(timeout=20)
            response = client.post(url, {"student": student_id}, format="json")
            outcomes.append((response.status_code, response.json().get("code")))
        except Exception as exc:  # noqa: BLE001  recorded, asserted on below
            outcomes.append((0, repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(s.pk,)) for s in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _members(cls: TemporaryClass) -> int:
    return TemporaryClass.objects.annotate(n=Count("placements")).get(pk=cls.pk).n


def test_fifty_adds_to_five_seats_fill_it_exactly(cast, five_seats_left, late_joiners,
                                                  slow_seat_check):
    cls = five_seats_left
    before = _members(cls)
    students = late_joiners(RACERS)
    outcomes = _race(cast.principal, cls, students)
    assert len(outcomes) == RACERS
    assert sorted(outcomes) == sorted([(201, None)] * SEATS_LEFT
                                      + [(409, "class_full")] * (RACERS - SEATS_LEFT))
    assert _members(cls) == cls.capacity == before + SEATS_LEFT
    assert Placement.objects.filter(student__in=students).count() == SEATS_LEFT


def test_control_without_the_lock_the_class_overflows(cast, five_seats_left, late_joiners,
                                                      slow_seat_check, monkeypatch):
    """Shows the test above would catch the race: with a plain read instead of the row lock,
    more than five get through and the class ends above its capacity."""

    def unlocked(pk):
        return (TemporaryClass.objects.select_related("menu__school", "menu__term", "item",
                                                      "slot")
                .get(pk=pk))

    monkeypatch.setattr(placements, "lock_class", unlocked)
    # Whatever the machine's load, the race happens: the first six requests past the seat check
    # wait for each other there, so none inserts before six have counted five free seats.
    # (Later ones that arrive too few to meet go on after a short wait.)
    checked = placements._check_seat
    meet = threading.Barrier(SEATS_LEFT + 1)

    def check_then_meet(cls, student):
        checked(cls, student)
        try:
            meet.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(placements, "_check_seat", check_then_meet)
    cls = five_seats_left
    outcomes = _race(cast.principal, cls, late_joiners(RACERS))
    assert len(outcomes) == RACERS
    assert all(status in (201, 409) for status, _code in outcomes), outcomes
    assert sum(1 for status, _code in outcomes if status == 201) > SEATS_LEFT
    assert _members(cls) > cls.capacity
