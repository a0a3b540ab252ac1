"""The term calendar every stage counts by: the current term, the term of a week, the service
days of a term (R5: weekdays, excluded weekdays, holidays, make-up days) and the dates each
slot runs."""

import contextlib
import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from schools.models import ServiceSlot, Term, TermCalendarDay
from schools.selectors import ServiceDay, current_term, service_days, slot_dates, term_of_week
from tests import factories as f

DAY = datetime.timedelta(days=1)


@pytest.fixture
def monday():
    """Next week's Monday (as in the scheduling tests), well inside the cast's term."""
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday())


def holiday(term, day):
    return TermCalendarDay.objects.create(term=term, date=day, kind=TermCalendarDay.Kind.HOLIDAY)


def makeup(term, day, weekday):
    return TermCalendarDay.objects.create(term=term, date=day, kind=TermCalendarDay.Kind.MAKEUP,
                                          runs_as_weekday=weekday)


def dates(days):
    return [d.date for d in days]


def test_current_term_contains_the_day_both_ends_included(cast):
    term = cast.term
    assert current_term(cast.school.pk, term.start) == term
    assert current_term(cast.school.pk, term.end) == term
    assert current_term(cast.school.pk, term.start - DAY) is None
    assert current_term(cast.school.pk, term.end + DAY) is None
    assert current_term(cast.other_school.pk, term.start) == cast.other_term


def test_current_term_or_next_is_the_earliest_term_still_to_start(cast):
    end = cast.term.end
    later = f.TermFactory(school=cast.school, start=end + 40 * DAY, end=end + 60 * DAY)
    sooner = f.TermFactory(school=cast.school, start=end + 10 * DAY, end=end + 30 * DAY)
    school = cast.school.pk
    assert current_term(school, end + 5 * DAY) is None
    assert current_term(school, end + 5 * DAY, or_next=True) == sooner
    assert current_term(school, cast.term.start - DAY, or_next=True) == cast.term
    assert current_term(school, later.end + DAY, or_next=True) is None


def test_term_of_week_needs_a_weekday_of_the_week_inside_the_term(cast, monday):
    school = cast.school.pk
    assert term_of_week(school, monday) == cast.term
    Term.objects.filter(pk=cast.term.pk).update(end=monday)
    assert term_of_week(school, monday) == cast.term
    assert term_of_week(school, monday + 7 * DAY) is None
    following = f.TermFactory(school=cast.school, start=monday + 11 * DAY,
                              end=monday + 60 * DAY)
    assert term_of_week(school, monday + 7 * DAY) == following  # it starts that Friday
    Term.objects.filter(pk=following.pk).update(start=monday + 12 * DAY)
    assert term_of_week(school, monday + 7 * DAY) is None  # a Saturday start misses the week
    assert term_of_week(school, monday + 14 * DAY) == following


def test_a_plain_week_is_monday_to_friday_in_one_query(cast, monday, django_assert_num_queries):
    # Another term's calendar is not this term's.
    holiday(cast.other_term, monday)
    makeup(cast.other_term, monday + 5 * DAY, 1)
    with django_assert_num_queries(1):
        days = service_days(cast.term, monday, monday + 6 * DAY)
    assert days == [ServiceDay(monday + i * DAY, i + 1) for i in range(5)]


def test_holidays_and_excluded_weekdays_have_no_service(cast, monday):
    term = cast.term
    term.excluded_weekdays = [4]
    term.save(update_fields=["excluded_weekdays"])
    holiday(term, monday + 2 * DAY)
    holiday(term, monday + 5 * DAY)  # on a Saturday: changes nothing
    assert dates(service_days(term, monday, monday + 6 * DAY)) == [
        monday, monday + DAY, monday + 4 * DAY]


def test_a_makeup_saturday_runs_mondays_slots(cast, monday):
    holiday(cast.term, monday)
    makeup(cast.term, monday + 5 * DAY, 1)
    assert service_days(cast.term, monday, monday + 6 * DAY) == [
        *(ServiceDay(monday + i * DAY, i + 1) for i in range(1, 5)),
        ServiceDay(monday + 5 * DAY, 1)]


def test_a_makeup_day_for_an_excluded_weekday_has_no_service(cast, monday):
    term = cast.term
    term.excluded_weekdays = [4]
    term.save(update_fields=["excluded_weekdays"])
    makeup(term, monday + 5 * DAY, 4)
    makeup(term, monday + 6 * DAY, 2)
    assert service_days(term, monday + 5 * DAY, monday + 6 * DAY) == [
        ServiceDay(monday + 6 * DAY, 2)]


def test_service_days_are_clipped_to_the_term(cast, monday):
    term = cast.term
    term.start, term.end = monday + 2 * DAY, monday + 4 * DAY
    term.save(update_fields=["start", "end"])
    makeup(term, monday + 5 * DAY, 1)  # dated after the term's end: it does not count
    wednesday_to_friday = [monday + 2 * DAY, monday + 3 * DAY, monday + 4 * DAY]
    assert dates(service_days(term, monday, monday + 6 * DAY)) == wednesday_to_friday
    assert dates(service_days(term)) == wednesday_to_friday
    assert dates(service_days(term, monday + 3 * DAY)) == wednesday_to_friday[1:]
    assert dates(service_days(term, end=monday + 2 * DAY)) == wednesday_to_friday[:1]
    assert service_days(term, monday + 5 * DAY) == []
    assert service_days(term, monday + 4 * DAY, monday + 2 * DAY) == []


def test_one_day_has_service_as_the_calendar_says(cast, monday):
    term = cast.term
    holiday(term, monday + DAY)
    makeup(term, monday + 5 * DAY, 2)
    assert service_days(term, monday, monday)
    assert not service_days(term, monday + DAY, monday + DAY)
    assert service_days(term, monday + 5 * DAY, monday + 5 * DAY)
    assert not service_days(term, monday + 6 * DAY, monday + 6 * DAY)
    after = term.end + datetime.timedelta(days=7 - term.end.weekday())
    before = term.start - datetime.timedelta(days=term.start.weekday() + 7)
    assert not service_days(term, after, after)
    assert not service_days(term, before, before)


def test_slot_dates_lists_the_days_each_slot_runs(cast, monday, django_assert_num_queries):
    term = cast.term
    holiday(term, monday + 2 * DAY)
    makeup(term, monday + 5 * DAY, 1)
    slot = {(s.kind, s.weekday): s for s in term.slots.all()}
    noon, afternoon = ServiceSlot.Kind.NOON, ServiceSlot.Kind.AFTERNOON
    with django_assert_num_queries(2):
        runs = slot_dates(term, monday, monday + 6 * DAY)
    assert runs.keys() == {s.pk for s in slot.values()}
    assert runs[slot[noon, 1].pk] == runs[slot[afternoon, 1].pk] == [monday, monday + 5 * DAY]
    assert runs[slot[noon, 3].pk] == runs[slot[afternoon, 3].pk] == []
    assert runs[slot[afternoon, 4].pk] == [monday + 3 * DAY]
    friday = slot[afternoon, 5]
    with django_assert_num_queries(1):
        assert slot_dates(term, monday, monday + 6 * DAY, [friday]) == {
            friday.pk: [monday + 4 * DAY]}


@pytest.mark.parametrize(("kind", "runs_as", "refused"), [
    # A NULL weekday would make a CHECK without IS NOT NULL pass (a NULL check passes).
    ("makeup", None, True),
    ("makeup", 0, True),
    ("makeup", 6, True),
    ("holiday", 1, True),
    ("makeup", 5, False),
    ("holiday", None, False),
])
def test_a_makeup_day_and_only_a_makeup_day_names_a_weekday(cast, monday, kind, runs_as,
                                                             refused):
    refusal = pytest.raises(IntegrityError, match="calendar_day_makeup_names_its_weekday")
    with refusal if refused else contextlib.nullcontext(), transaction.atomic():
        TermCalendarDay.objects.create(term=cast.term, date=monday + 5 * DAY, kind=kind,
                                       runs_as_weekday=runs_as)
    assert TermCalendarDay.objects.filter(term=cast.term).exists() is not refused
