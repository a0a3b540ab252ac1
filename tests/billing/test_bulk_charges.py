"""A bulk approval under a published fee standard charges every new enrolment in a constant
number of queries, whatever the number of children (the charges are posted as one batch:
one number range, one insert each of entries, lines and charges)."""

from decimal import Decimal

import pytest

from billing.models import Charge, JournalEntry, JournalLine
from enrollment.models import Application
from tests.enrollment.test_bulk import DECIDE_MAX_QUERIES, _applications, _pupils

from .conftest import publish_fee

pytestmark = pytest.mark.django_db

# The bulk approval's own queries, and the charge's: the fee standards, the term, its slots
# and calendar, the enrolments' slots, their locks, what is posted for them, the number range,
# the entries, their lines and the charges.
CHARGE_QUERIES = 11


@pytest.mark.parametrize("n", [20, 200])
def test_bulk_approval_charges_every_child_in_a_constant_number_of_queries(
        cast, plan, api, django_assert_max_num_queries, n):
    publish_fee(cast)
    students = _pupils(cast, n, [cast.homeroom, cast.homeroom2])
    applications = _applications(cast, plan, students, Application.Status.CLASS_APPROVED)
    with django_assert_max_num_queries(DECIDE_MAX_QUERIES + CHARGE_QUERIES):
        response = api(cast.principal).post("/api/v1/applications/bulk-decide/",
                                            {"ids": [a.pk for a in applications]},
                                            format="json")
    assert response.status_code == 200, response.content
    charges = list(Charge.objects.select_related("enrolment", "entry"))
    assert sorted(c.student_id for c in charges) == sorted(s.pk for s in students)
    # Half the children take the afternoons only, the others noon (2 class-hours) as well.
    assert {c.basis["class_hours"] == str(Decimal(c.amount / 2).quantize(Decimal("0.1")))
            for c in charges} == {True}
    assert len({c.amount for c in charges}) == 2
    numbers = sorted(JournalEntry.objects.values_list("number", flat=True))
    assert numbers == list(range(1, n + 1))  # one after another, no gap
    assert JournalLine.objects.filter(account="1221").count() == n
