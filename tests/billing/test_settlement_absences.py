"""Settlement and the roll: an absence without leave is charged (the place was kept) unless
the school's setting says otherwise."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from attendance.models import Mark
from billing.selectors import statement
from tests.attendance.conftest import *  # noqa: F403  the session and what it stands on
from tests.attendance.conftest import session  # noqa: F401

from .conftest import publish_fee
from .test_settlement import pay, settle

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("charged_anyway", [True, False])
def test_an_unexplained_absence_is_refunded_only_where_the_school_does_not_charge_it(
        cast, session, charged_anyway):  # noqa: F811
    publish_fee(cast)
    cast.school.charges_unexplained_absences = charged_anyway
    cast.school.save(update_fields=["charges_unexplained_absences"])
    child = cast.child
    pay(cast, child, statement(child, cast.term).balance, "c")
    Mark.objects.create(session=session, student=child, status=Mark.Status.ABSENT,
                        marked_by=cast.teacher, client_id=uuid.uuid4(),
                        occurred_at=timezone.now())
    # A later correction to present would count; the latest mark is what counts.
    result = settle(cast)
    refunded = [r.amount for r in result.refunds if r.student_id == child.pk]
    assert refunded == ([] if charged_anyway else [Decimal("2.00")])
