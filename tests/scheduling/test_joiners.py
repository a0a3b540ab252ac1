"""A child approved after the week was allocated gets a seat at once: their grade's study hall,
under the cap, for every enrolled slot still to run; where none has room the principal is
told and seats them in one click; the guardian is told, and their week never reads "no
class"."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from scheduling import selectors, services
from scheduling.models import Placement, TemporaryClass
from schools.models import AuditEntry, GuardianStudent
from tests.scheduling.conftest import SEED, afternoon, close_choices

pytestmark = pytest.mark.django_db


def _guardian_of(student):
    return GuardianStudent.objects.get(student=student).guardian.user


def _seats(student) -> dict[int, Placement]:
    return {p.slot.weekday: p for p in Placement.objects.filter(student=student)
            .select_related("temporary_class", "slot")}


def test_a_child_approved_after_the_allocation_sits_in_the_study_hall(cast, allocated,
                                                                      late_joiners):
    joiner = late_joiners(1, seated=True)[0]
    seats = _seats(joiner)
    # Tuesday to Friday have third-grade study halls; Monday's third graders all sit in
    # activities, so there is none to join that day.
    assert sorted(seats) == [2, 3, 4, 5]
    for weekday, seat in seats.items():
        hall = seat.temporary_class
        assert (hall.kind, hall.grade, seat.source) == ("study_hall", 3, "joined")
        assert hall.placements.count() <= hall.capacity
        # The head teacher's list for that day has the newcomer on it.
        assert joiner in selectors.class_members_on(hall, allocated.day_of(weekday))
    assert AuditEntry.objects.filter(action="scheduling.placement.joined").count() == 4
    told = Notification.objects.get(recipient=_guardian_of(joiner), purpose="scheduling.joined",
                                    channel="in_app")
    assert "托管自习" in told.body and told.url.startswith(f"/scheduling/students/{joiner.pk}/")
    # Monday has no room: the principal hears of it, with the way to seat them.
    waiting = Notification.objects.get(recipient=cast.principal, channel="in_app",
                                       purpose="scheduling.joiners_waiting")
    assert waiting.url == f"/scheduling/menus/{allocated.pk}/classes/#waiting"
    assert [(u.slot.weekday, u.student) for u in selectors.unseated(allocated)] == [(1, joiner)]


def test_a_full_study_hall_is_never_overfilled(cast, allocated, late_joiners):
    tuesday = TemporaryClass.objects.filter(menu=allocated, kind="study_hall", grade=3,
                                            slot__weekday=2)
    for hall in tuesday:
        TemporaryClass.objects.filter(pk=hall.pk).update(capacity=hall.placements.count())
    joiner = late_joiners(1, seated=True)[0]
    assert sorted(_seats(joiner)) == [3, 4, 5]
    for hall in tuesday:
        assert hall.placements.count() == TemporaryClass.objects.get(pk=hall.pk).capacity
    assert {u.slot.weekday for u in selectors.unseated(allocated)} == {1, 2}


def test_the_principal_seats_the_waiting_in_one_click(cast, allocated, late_joiners, client):
    joiners = late_joiners(2, seated=True)
    client.force_login(cast.principal)
    page = client.get(f"/scheduling/menus/{allocated.pk}/classes/").content.decode()
    assert 'id="waiting"' in page and all(j.name in page for j in joiners)

    monday = afternoon(cast.term, 1)
    response = client.post(f"/scheduling/menus/{allocated.pk}/study-halls/",
                           {"slot": monday.pk, "grade": 3})
    hall = TemporaryClass.objects.get(menu=allocated, slot=monday, kind="study_hall")
    assert response.status_code == 302 and response.url == hall.get_absolute_url()
    assert hall.grade == 3 and hall.head_teacher is not None
    assert set(hall.placements.values_list("student_id", flat=True)) == {j.pk for j in joiners}
    assert AuditEntry.objects.filter(action="scheduling.study_hall.opened",
                                     object_id=str(hall.pk)).exists()
    assert selectors.unseated(allocated) == []
    assert 'id="waiting"' not in client.get(
        f"/scheduling/menus/{allocated.pk}/classes/").content.decode()
    # The next one to join on Monday finds a seat there by themselves.
    later = late_joiners(1, seated=True)[0]
    assert _seats(later)[1].temporary_class == hall


def test_opening_a_study_hall_is_for_the_schools_managers(cast, allocated, late_joiners,
                                                         client):
    late_joiners(1, seated=True)
    monday = afternoon(cast.term, 1)
    for user in (cast.principal2, cast.teacher, cast.parent):
        client.force_login(user)
        response = client.post(f"/scheduling/menus/{allocated.pk}/study-halls/",
                               {"slot": monday.pk, "grade": 3})
        assert response.status_code == 404
    assert not TemporaryClass.objects.filter(menu=allocated, slot=monday,
                                             kind="study_hall").exists()


def test_the_guardian_never_reads_no_class_for_an_enrolled_day(cast, allocated, late_joiners,
                                                               client):
    joiner = late_joiners(1, seated=True)[0]
    client.force_login(_guardian_of(joiner))
    url = f"/scheduling/students/{joiner.pk}/week/?week={allocated.week}"
    page = client.get(url).content.decode()
    assert page.count('class="card day') == 5
    assert "正在安排" in page  # Monday, while the principal opens a hall
    assert "还没有分班结果" not in page
    assert page.count("托管自习") >= 4
    client.force_login(cast.principal)
    client.post(f"/scheduling/menus/{allocated.pk}/study-halls/",
                {"slot": afternoon(cast.term, 1).pk, "grade": 3})
    client.force_login(_guardian_of(joiner))
    assert "正在安排" not in client.get(url).content.decode()


def test_a_child_approved_before_the_allocation_is_seated_by_it(cast, published,
                                                                 late_joiners):
    joiner = late_joiners(1, seated=True)[0]
    assert not Placement.objects.filter(student=joiner).exists()  # no classes yet
    menu = close_choices(published)
    services.menu_allocate(menu=menu, user=cast.principal, seed=SEED)
    seats = Placement.objects.filter(student=joiner, menu=menu)
    # One seat per afternoon, made by the allocation itself, not by a later joining.
    assert sorted(seats.values_list("slot__weekday", flat=True)) == [1, 2, 3, 4, 5]
    assert set(seats.values_list("source", flat=True)) == {"allocation"}
    assert not Notification.objects.filter(purpose="scheduling.joined").exists()


def test_seating_joiners_takes_the_same_queries_for_3_or_30(cast, allocated, late_joiners):
    """Seating runs a few queries per allocated week, none per child or slot: a whole class
    approved mid-week costs what one child does."""
    late_joiners(1, seated=True)  # warms the per-process caches (content types)
    counts = {}
    for n in (3, 30):
        with CaptureQueriesContext(connection) as queries:
            joiners = late_joiners(n, seated=True)
        counts[n] = len(queries)
        assert Placement.objects.filter(student__in=joiners).count() == 4 * n, n
    assert counts[30] == counts[3], counts
