"""The weekday mask the database keeps on each enrolment (migration 0007) follows its slots,
whoever writes them: an approval's bulk insert, a single add, a removal, a whole set."""

import pytest
from django.db import connection
from django.utils import timezone

from enrollment.models import Enrolment
from enrollment.selectors import WEEKDAYS_MASK, served_by_term
from tests.attendance.conftest import *  # noqa: F403  the cast and its enrolments

pytestmark = pytest.mark.django_db


def _mask(enrolment: Enrolment) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT weekday_mask FROM enrollment_enrolment WHERE id = %s",
                       [enrolment.pk])
        return cursor.fetchone()[0]


def _bits(*weekdays: int) -> int:
    return sum(1 << d for d in weekdays)


def test_the_mask_follows_the_slots_written_any_way(cast, enrolled):
    full = Enrolment.objects.get(student=cast.child)
    short = Enrolment.objects.get(student=cast.other_child)
    # As approval wrote them (bulk insert): every afternoon, and Monday to Thursday.
    assert _mask(full) == WEEKDAYS_MASK == _bits(1, 2, 3, 4, 5)
    assert _mask(short) == _bits(1, 2, 3, 4)
    friday = next(s for s in cast.term.slots.all() if s.weekday == 5 and s.kind == "afternoon")
    short.slots.add(friday)
    assert _mask(short) == WEEKDAYS_MASK
    monday = [s for s in short.slots.all() if s.weekday == 1]
    short.slots.remove(*monday)
    assert _mask(short) == _bits(2, 3, 4, 5)
    short.slots.set([friday])
    assert _mask(short) == _bits(5)
    short.slots.clear()
    assert _mask(short) == 0
    # A save of an enrolment read before its slots changed writes no old mask back.
    full_read = Enrolment.objects.get(pk=full.pk)
    full.slots.remove(friday)
    full_read.save()
    assert _mask(full) == _bits(1, 2, 3, 4)


def test_served_counts_weekday_enrolments_and_the_five_day_ones(cast, enrolled):
    day = timezone.localdate()  # the enrolments are in force today
    short = Enrolment.objects.get(student=cast.other_child)
    served = served_by_term([(cast.term.pk, day)])
    assert served == {(cast.term.pk, day): (3, 2)}  # other_child: Monday to Thursday
    short.slots.clear()  # an enrolment with no weekday slot serves no one
    assert served_by_term([(cast.term.pk, day)]) == {(cast.term.pk, day): (2, 2)}
    assert served_by_term([]) == {}
