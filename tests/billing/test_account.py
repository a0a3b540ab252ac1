"""Government money in and spending out of the dedicated account, through the API: by
Idempotency-Key, with their documents, never more out than the account holds, the bureau's
waiver money never above what it owes."""

from decimal import Decimal

import pytest
from django.utils import timezone

from billing import ledger, services
from billing.models import Account, Expense, Subsidy

pytestmark = pytest.mark.django_db


def _post(api, user, school, path, body, key="k"):
    return api(user).post(f"/api/v1/schools/{school.pk}/{path}/", body, format="json",
                          **({"HTTP_IDEMPOTENCY_KEY": key} if key else {}))


def _balance(school, code):
    return next(r for r in ledger.trial_balance(school.pk, timezone.localdate())
                if r.account == code).balance


def test_a_subsidy_is_income_once_per_key(cast, charged, api):
    body = {"kind": "subsidy", "amount": "360.00", "source_document": "城财教〔2026〕45号",
            "basis": "3 人 × 120 元", "received_on": cast.term.start.isoformat(),
            "term": cast.term.pk}
    first = _post(api, cast.finance, cast.school, "subsidies", body)
    assert first.status_code == 201, first.json()
    assert _post(api, cast.finance, cast.school, "subsidies", body).json() == first.json()
    other = _post(api, cast.finance, cast.school, "subsidies", {**body, "amount": "1.00"})
    assert other.status_code == 422 and Subsidy.objects.count() == 1
    assert _balance(cast.school, Account.SUBSIDY_INCOME) == Decimal("360.00")
    listed = api(cast.principal).get(f"/api/v1/schools/{cast.school.pk}/subsidies/")
    assert [s["source_document"] for s in listed.json()["results"]] == ["城财教〔2026〕45号"]
    # Who records: the school's finance officer only.
    assert _post(api, cast.principal, cast.school, "subsidies", body, "p").status_code == 403
    assert _post(api, cast.finance, cast.other_school, "subsidies", body, "o").status_code == 404
    missing = _post(api, cast.finance, cast.school, "subsidies", {**body, "source_document": ""},
                    "m")
    assert missing.status_code == 400 and "source_document" in missing.json()


def test_the_bureau_pays_no_more_than_the_waivers_it_bears(cast, charged, api):
    services.waiver_grant(user=cast.principal, student=cast.child, term=cast.term, kind="amount",
                          value=Decimal("30.00"), reason="低保", borne_by="bureau",
                          evidence="低保证")
    body = {"kind": "waivers", "amount": "30.01", "source_document": "财政局减免款",
            "received_on": cast.term.start.isoformat()}
    too_much = _post(api, cast.finance, cast.school, "subsidies", body, "a")
    assert too_much.status_code == 400 and "amount" in too_much.json()
    ok = _post(api, cast.finance, cast.school, "subsidies", {**body, "amount": "30.00"}, "b")
    assert ok.status_code == 201
    assert _balance(cast.school, Account.BUREAU) == 0


def test_spending_comes_only_from_what_the_account_holds(cast, charged, api):
    services.payment_record(user=cast.finance, key="cash", student=cast.child, term=cast.term,
                            amount=Decimal("100.00"), method="cash")
    body = {"category": Account.CONSUMABLES, "amount": "100.01", "payee": "文具店",
            "description": "美术耗材", "document": "发票 001",
            "paid_on": cast.term.start.isoformat()}
    refused = _post(api, cast.finance, cast.school, "expenses", body, "x")
    assert refused.status_code == 400 and "amount" in refused.json()
    spent = _post(api, cast.finance, cast.school, "expenses", {**body, "amount": "100.00"}, "y")
    assert spent.status_code == 201, spent.json()
    assert Expense.objects.get().category == Account.CONSUMABLES
    assert _balance(cast.school, Account.BANK) == 0
    fee_income = _post(api, cast.finance, cast.school, "expenses",
                       {**body, "category": Account.FEE_INCOME, "amount": "1.00"}, "z")
    assert fee_income.status_code == 400 and "category" in fee_income.json()
