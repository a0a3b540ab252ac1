"""`manage.py seed_demo` also seeds billing through its services: the fee standard, payments
with a void, three waivers, the subsidy and three payments out, last month's payroll, and the
previous term settled with refunds and top-ups. Every money movement is a journal entry, the
ledger balances, and a second run adds nothing."""

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from billing import ledger
from billing.models import (
    Charge,
    Expense,
    JournalEntry,
    Payment,
    Payroll,
    Refund,
    Settlement,
    Subsidy,
    Waiver,
    WaiverPosting,
)
from enrollment.models import Enrolment, FeeStandard
from schools.models import School
from schools.selectors import current_term
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
COUNTED = [JournalEntry, Charge, Payment, Waiver, WaiverPosting, Subsidy, Expense, Refund,
           Settlement, Payroll]


@pytest.fixture
def school(db, demo_once):
    return School.objects.get(code="DEMO-P1")


def test_the_term_is_charged_most_families_paid_and_three_waived(school):
    term = current_term(school.pk, timezone.localdate())
    standard = FeeStandard.objects.get(term=term)
    assert standard.mode == "per_hour" and standard.rate == 2
    enrolled = Enrolment.objects.filter(term=term).count()
    paid = Payment.objects.filter(term=term, kind="payment").values("student").distinct()
    assert enrolled * 0.8 < paid.count() < enrolled
    assert Payment.objects.filter(term=term, kind="void").count() == 1
    assert Waiver.objects.filter(term=term).count() == 3
    assert Subsidy.objects.filter(school=school).exists()
    assert Expense.objects.filter(school=school).count() == 3


def test_the_previous_term_is_settled_with_refunds_and_top_ups(school):
    settled = Settlement.objects.get(term__school=school)
    assert settled.refunded > 0 and settled.top_ups > 0
    refunds = Refund.objects.filter(term=settled.term)
    assert refunds.filter(status="done").exists() and refunds.filter(status="created").exists()


def test_every_movement_is_in_the_journal_and_the_ledger_balances(school):
    rows = ledger.trial_balance(school.pk, timezone.localdate())
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows) > 0
    entries = JournalEntry.objects.filter(school=school)
    recorded = (Charge.objects.filter(entry__school=school).count()
                + Payment.objects.filter(school=school).count()
                + WaiverPosting.objects.filter(entry__school=school).count()
                + Subsidy.objects.filter(school=school).count()
                + Expense.objects.filter(school=school).count()
                + Refund.objects.filter(school=school).count()
                + Refund.objects.filter(school=school, closing_entry__isnull=False).count()
                + Payroll.objects.filter(Q(entry__isnull=False), school=school).count()
                + Payroll.objects.filter(Q(paid_entry__isnull=False), school=school).count()
                + entries.filter(kind="income").count())
    assert entries.count() == recorded
    assert Payroll.objects.filter(school=school, status="published").exists()


def test_a_second_run_adds_no_money(school):
    before = {model.__name__: model.objects.count() for model in COUNTED}
    call_command("seed_demo", password=DEMO_PASSWORD, quiet=True)
    assert {model.__name__: model.objects.count() for model in COUNTED} == before
