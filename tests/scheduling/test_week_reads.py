"""The scheduling stage's published reads: which slots run on which day of a menu's week, who
is enrolled in it, who is placed on a day, and who sits in a temporary class on a day. The
week is next week's (`monday`); the children are `enrolled` (child and sibling every
afternoon, other_child Monday to Thursday)."""

import datetime

from enrollment.models import Enrolment
from scheduling.models import Menu, Placement
from scheduling.selectors import (
    class_members_on,
    enrolled_in_week,
    enrolled_slots,
    guardians_of_enrolled,
    is_enrolled_in_week,
    placements_on,
    week_slot_days,
)
from schools.models import ServiceSlot, Term, TermCalendarDay
from tests.scheduling.conftest import afternoon, class_of

DAY = datetime.timedelta(days=1)
MON, TUE, WED, THU, FRI, SAT = range(6)


def holiday(term, day):
    TermCalendarDay.objects.create(term=term, date=day, kind=TermCalendarDay.Kind.HOLIDAY)


def makeup(term, day, weekday):
    TermCalendarDay.objects.create(term=term, date=day, kind=TermCalendarDay.Kind.MAKEUP,
                                   runs_as_weekday=weekday)


def set_dates(enrolment, **dates):
    Enrolment.objects.filter(pk=enrolment.pk).update(**dates)


def noon(term, weekday) -> ServiceSlot:
    return term.slots.get(kind=ServiceSlot.Kind.NOON, weekday=weekday)


def students(queryset) -> set:
    return {p.student for p in queryset}


# --- week_slot_days ---------------------------------------------------------------------------

def test_each_slot_runs_on_its_weekday_of_the_week(cast, menu, monday):
    days = week_slot_days(menu)
    assert days == {s.pk: monday + (s.weekday - 1) * DAY for s in cast.term.slots.all()}
    friday = afternoon(cast.term, 5)
    assert week_slot_days(menu, [friday]) == {friday.pk: monday + FRI * DAY}


def test_a_holiday_drops_that_weekdays_slots_from_the_week(cast, menu, monday):
    holiday(cast.term, monday + WED * DAY)
    days = week_slot_days(menu)
    assert afternoon(cast.term, 3).pk not in days and noon(cast.term, 3).pk not in days
    assert len(days) == 8
    assert days[afternoon(cast.term, 4).pk] == monday + THU * DAY


def test_an_excluded_weekday_drops_its_slots_from_the_week(cast, menu):
    Term.objects.filter(pk=cast.term.pk).update(excluded_weekdays=[4])
    days = week_slot_days(Menu.objects.get(pk=menu.pk))
    assert {s.weekday for s in cast.term.slots.filter(pk__in=days)} == {1, 2, 3, 5}


def test_a_makeup_saturday_runs_mondays_slots(cast, menu, monday):
    holiday(cast.term, monday)
    makeup(cast.term, monday + SAT * DAY, 1)
    days = week_slot_days(menu)
    assert days[afternoon(cast.term, 1).pk] == days[noon(cast.term, 1).pk] == monday + SAT * DAY
    assert len(days) == 10


def test_a_slot_that_runs_twice_in_a_week_counts_its_first_day(cast, menu, monday):
    makeup(cast.term, monday + SAT * DAY, 1)
    assert week_slot_days(menu)[afternoon(cast.term, 1).pk] == monday


# --- who is enrolled in the week --------------------------------------------------------------

def test_enrolled_in_week_is_whoever_is_in_force_on_some_day_of_it(cast, menu, enrolled,
                                                                   monday):
    assert set(enrolled_in_week(menu)) == {enrolled.child, enrolled.sibling, enrolled.other_child}
    set_dates(enrolled.sibling, end_date=monday - 3 * DAY)  # left the Friday before
    set_dates(enrolled.other_child, start_date=monday + FRI * DAY)  # joins on Friday
    assert set(enrolled_in_week(menu)) == {enrolled.child, enrolled.other_child}
    Enrolment.objects.filter(pk=enrolled.child.pk).update(status=Enrolment.Status.ENDED)
    set_dates(enrolled.other_child, start_date=monday + 7 * DAY)
    assert not enrolled_in_week(menu).exists()


def test_enrolled_slots_are_those_in_force_on_the_day_they_run(cast, menu, enrolled, monday,
                                                              django_assert_num_queries):
    afternoons = [afternoon(cast.term, d) for d in range(1, 6)]
    menu = Menu.objects.select_related("term").get(pk=menu.pk)
    with django_assert_num_queries(3):
        assert enrolled_slots(menu, cast.child) == afternoons
    assert enrolled_slots(menu, cast.other_child) == afternoons[:4]
    set_dates(enrolled.child, end_date=monday + WED * DAY)
    set_dates(enrolled.sibling, start_date=monday + THU * DAY)
    assert enrolled_slots(menu, cast.child) == afternoons[:3]
    assert enrolled_slots(menu, cast.sibling) == afternoons[3:]
    holiday(cast.term, monday + TUE * DAY)
    assert enrolled_slots(menu, cast.child) == [afternoons[0], afternoons[2]]


def test_a_child_who_leaves_on_friday_misses_monday_run_on_the_makeup_saturday(
        cast, menu, enrolled, monday):
    holiday(cast.term, monday)
    makeup(cast.term, monday + SAT * DAY, 1)
    set_dates(enrolled.child, end_date=monday + FRI * DAY)
    monday_afternoon = afternoon(cast.term, 1)
    assert monday_afternoon not in enrolled_slots(menu, cast.child)
    assert not is_enrolled_in_week(menu, cast.child, monday_afternoon)
    assert is_enrolled_in_week(menu, cast.sibling, monday_afternoon)


def test_is_enrolled_in_week_needs_the_slot_and_its_day(cast, menu, enrolled, monday):
    assert is_enrolled_in_week(menu, cast.other_child, afternoon(cast.term, 1))
    assert not is_enrolled_in_week(menu, cast.other_child, afternoon(cast.term, 5))
    assert not is_enrolled_in_week(menu, cast.child, noon(cast.term, 1))
    set_dates(enrolled.sibling, start_date=monday + WED * DAY)
    assert not is_enrolled_in_week(menu, cast.sibling, afternoon(cast.term, 2))
    assert is_enrolled_in_week(menu, cast.sibling, afternoon(cast.term, 3))
    holiday(cast.term, monday + WED * DAY)
    assert not is_enrolled_in_week(menu, cast.sibling, afternoon(cast.term, 3))


def test_guardians_of_enrolled_each_once(cast, menu, enrolled, monday):
    assert sorted(u.pk for u in guardians_of_enrolled(menu)) == sorted(
        [cast.parent.pk, cast.parent2.pk])
    set_dates(enrolled.other_child, end_date=monday - DAY)
    assert guardians_of_enrolled(menu) == [cast.parent]


# --- placements_on ----------------------------------------------------------------------------

def test_placements_on_a_day_are_that_weeks_in_the_slots_that_run(cast, allocated, monday):
    assert students(placements_on(cast.term, monday)) == {
        cast.child, cast.sibling, cast.other_child}
    assert students(placements_on(cast.term, monday + FRI * DAY)) == {cast.child, cast.sibling}
    assert not placements_on(cast.term, monday + SAT * DAY).exists()
    assert not placements_on(cast.term, monday + 7 * DAY).exists()  # no allocation that week
    assert not placements_on(cast.other_term, monday).exists()


def test_placements_on_narrow_by_slot_and_children(cast, allocated, monday):
    monday_afternoon = afternoon(cast.term, 1)
    assert placements_on(cast.term, monday, slot=monday_afternoon).count() == 3
    assert not placements_on(cast.term, monday, slot=noon(cast.term, 1).pk).exists()
    assert not placements_on(cast.term, monday, slot=afternoon(cast.term, 2)).exists()
    assert students(placements_on(cast.term, monday, students=[cast.child, cast.sibling.pk])
                    ) == {cast.child, cast.sibling}


def test_no_placements_on_a_holiday_or_an_excluded_weekday(cast, allocated, monday):
    # Declared after the allocation: the read, not the allocation, must leave the day out.
    holiday(cast.term, monday + WED * DAY)
    cast.term.excluded_weekdays = [2]
    cast.term.save(update_fields=["excluded_weekdays"])
    assert not placements_on(cast.term, monday + WED * DAY).exists()
    assert not placements_on(cast.term, monday + TUE * DAY).exists()
    assert placements_on(cast.term, monday + THU * DAY).count() == 3


def test_a_makeup_saturday_seats_mondays_placements(cast, allocated, monday):
    on_monday = set(placements_on(cast.term, monday))
    holiday(cast.term, monday)
    makeup(cast.term, monday + SAT * DAY, 1)
    assert not placements_on(cast.term, monday).exists()
    assert set(placements_on(cast.term, monday + SAT * DAY)) == on_monday


# --- class_members_on -------------------------------------------------------------------------

def test_class_members_are_those_placed_and_in_force_that_day(cast, allocated, enrolled, monday):
    thursday = monday + THU * DAY
    # Thursday's study hall seats all three (no activity choices that day).
    hall = Placement.objects.get(menu=allocated, student=cast.sibling,
                                 slot__weekday=4).temporary_class
    assert list(class_members_on(hall, thursday)) == [cast.child, cast.sibling, cast.other_child]
    set_dates(enrolled.sibling, end_date=thursday)  # its last day
    assert cast.sibling in class_members_on(hall, thursday)
    set_dates(enrolled.sibling, end_date=monday + WED * DAY)
    assert cast.sibling not in class_members_on(hall, thursday)


def test_no_members_on_a_day_the_class_does_not_meet(cast, allocated, activities, monday):
    painting = class_of(allocated, activities.arts, 1)
    assert list(class_members_on(painting, monday)) == [cast.other_child]
    assert not class_members_on(painting, monday + TUE * DAY).exists()
    assert not class_members_on(painting, monday + 7 * DAY).exists()
    holiday(cast.term, monday)
    assert not class_members_on(painting, monday).exists()


def test_a_class_meets_on_the_makeup_day_of_its_weekday(cast, allocated, activities, enrolled,
                                                        monday):
    holiday(cast.term, monday)
    makeup(cast.term, monday + SAT * DAY, 1)
    painting = class_of(allocated, activities.arts, 1)
    assert list(class_members_on(painting, monday + SAT * DAY)) == [cast.other_child]
    set_dates(enrolled.other_child, end_date=monday + FRI * DAY)
    assert not class_members_on(painting, monday + SAT * DAY).exists()
