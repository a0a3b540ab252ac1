"""A term with a published fee standard (2 元 per class-hour, the example of R11) and
enrolments approved through the services, so each is charged as an approval charges it."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from enrollment import services as enrollment
from tests.enrollment.conftest import plan  # noqa: F401
from tests.scheduling.conftest import enrol, enrolled  # noqa: F401


def publish_fee(cast, *, rate="2.00", mode="per_hour", effective_from=None, user=None):
    return enrollment.fee_standard_publish(
        term=cast.term, user=user or cast.principal, mode=mode, rate=Decimal(rate),
        effective_from=effective_from or cast.term.start, approved_by="市发展改革委",
        approval_ref="发改价格〔2026〕12号")


@pytest.fixture
def fee(cast):
    return publish_fee(cast)


@pytest.fixture
def charged(cast, fee, enrolled):  # noqa: F811
    """`child` and `sibling` every afternoon, `other_child` Monday to Thursday, charged."""
    return enrolled


def afternoons_left(cast, start: datetime.date, weekdays=range(1, 6)) -> int:
    """Afternoon service days of the term from `start` (no calendar exceptions in the cast)."""
    day, n = start, 0
    while day <= cast.term.end:
        if day.isoweekday() in weekdays:
            n += 1
        day += datetime.timedelta(days=1)
    return n


def today():
    return timezone.localdate()
