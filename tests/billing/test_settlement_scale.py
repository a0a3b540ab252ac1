"""The settlement's queries do not grow with the school: pinned at two sizes."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import services, settlement
from billing.models import Refund

from .scale import ended_school

pytestmark = pytest.mark.django_db
# The lock and the calendar, enrolments with slots, leave, charges and waivers posted, the
# numbers and three statements per batch posted (charges, waivers, income, refunds), balances,
# the payments' locks and refunds, the run's record and audit: the same whatever the size.
SETTLE_MAX_QUERIES = 40


@pytest.mark.parametrize("n", [20, 80])
def test_settling_a_term_takes_a_constant_number_of_queries(n):
    school = ended_school(n, tag=f"PIN{n}", leave_every=7, withdraw_every=5)
    for student in school.students[1::10]:
        services.waiver_grant(user=school.principal, student=student, term=school.term,
                              kind="percent", value=Decimal(50), reason="低保",
                              borne_by="bureau", evidence="低保证")
    with CaptureQueriesContext(connection) as queries:
        done = settlement.term_settle(term=school.term, user=school.principal)
    assert len(queries) <= SETTLE_MAX_QUERIES, "\n".join(q["sql"][:120] for q in queries)
    # Every paid family with leave or a withdrawal is refunded; the unpaid owe the rest.
    assert done.refunds and Refund.objects.filter(term=school.term).count() == len(done.refunds)
    assert done.top_ups
    again = settlement.term_settle(term=school.term, user=school.principal)
    assert again.settlement.entries == 0
