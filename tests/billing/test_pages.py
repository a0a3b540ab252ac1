"""The billing pages post to the same services as the API: a payment form sent twice is one
receipt, a bad amount is a message naming what is wrong, the principal settles and grants
waivers, finance closes refunds."""

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import Payment, PayRate, Payroll, Refund, Waiver
from billing.selectors import statement

from .test_settlement import after_term, on, pay

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _key(page: str) -> str:
    return re.search(r'name="key" value="([0-9a-f-]+)"', page).group(1)


def test_the_payment_form_sent_twice_is_one_receipt(cast, charged):
    finance = client_for(cast.finance)
    page = finance.get("/billing/register/").content.decode()
    body = {"key": _key(page), "term": cast.term.pk, "student": cast.child.pk,
            "amount": "50.00", "method": "wechat", "reference": "42000001"}
    first = finance.post("/billing/register/", body)
    second = finance.post("/billing/register/", body)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1
    receipt = finance.get(first["Location"])
    assert Payment.objects.get().receipt_no in receipt.content.decode()
    # The guardian opens the receipt; another family does not.
    assert client_for(cast.parent).get(first["Location"]).status_code == 200
    assert client_for(cast.parent2).get(first["Location"]).status_code == 404


@pytest.mark.parametrize("amount", ["", "abc", "NaN", "1.234", "-3", "Infinity"])
def test_a_bad_amount_is_a_message_not_an_error(cast, charged, amount):
    finance = client_for(cast.finance)
    page = finance.get("/billing/register/").content.decode()
    response = finance.post("/billing/register/", {
        "key": _key(page), "term": cast.term.pk, "student": cast.child.pk, "amount": amount,
        "method": "cash"}, follow=True)
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and "金额" in errors[0], errors
    assert not Payment.objects.exists()


def test_the_principal_grants_a_waiver_and_settles_on_the_page(cast, charged):
    principal = client_for(cast.principal)
    response = principal.post("/billing/term/", {
        "term": cast.term.pk, "action": "grant", "student": cast.child.pk, "kind": "percent",
        "value": "50", "borne_by": "school", "evidence": "低保证 9", "reason": "低保"},
        follow=True)
    assert "已批准减免" in response.content.decode()
    assert Waiver.objects.get().value == 50
    pay(cast, cast.sibling, statement(cast.sibling, cast.term).balance + 5, "over")
    with on(after_term(cast)):
        principal = client_for(cast.principal)  # a session signed in on the day
        page = principal.get(f"/billing/term/?term={cast.term.pk}").content.decode()
        assert 'id="settle-button"' in page
        done = principal.post("/billing/term/", {"term": cast.term.pk, "action": "settle"},
                              follow=True)
    assert "结算完成" in done.content.decode()
    refund = Refund.objects.get(student=cast.sibling)
    assert refund.amount == Decimal("5.00")
    finance = client_for(cast.finance)
    assert refund.out_refund_no in finance.get("/billing/refunds/").content.decode()
    finance.post("/billing/refunds/", {"refund": refund.pk, "action": "done",
                                       "reference": "50300009"})
    refund.refresh_from_db()
    assert refund.status == "done" and refund.reference == "50300009"


def test_the_trial_balance_page_balances(cast, charged):
    pay(cast, cast.child, "10.00", "tb")
    page = client_for(cast.finance).get("/billing/trial-balance/").content.decode()
    assert "平衡" in page and "不平衡" not in page


def test_finance_moves_a_payment_to_the_right_sibling_on_the_page(cast, charged):
    reply = pay(cast, cast.child, "25.00", "wrong")
    finance = client_for(cast.finance)
    receipt = Payment.objects.get(pk=reply.body["id"]).receipt_no
    unknown = finance.post("/billing/register/", {"action": "transfer", "receipt_no": "12",
                                                  "student": cast.sibling.pk, "reason": "错记"},
                           follow=True)
    assert "没有这个收据号" in unknown.content.decode()
    done = finance.post("/billing/register/", {"action": "transfer", "receipt_no": receipt,
                                               "student": cast.sibling.pk, "reason": "错记"},
                        follow=True)
    assert "已将收据" in done.content.decode()
    page = client_for(cast.parent).get(f"/billing/students/{cast.sibling.pk}/").content.decode()
    assert receipt in page and "转入" in page


def test_finance_records_government_money_and_spends_no_more_than_the_account_holds(cast,
                                                                                   charged):
    from billing.models import Expense, Subsidy

    finance = client_for(cast.finance)
    page = finance.get("/billing/account/").content.decode()
    keys = re.findall(r'name="key" value="([0-9a-f-]+)"', page)
    assert len(set(keys)) == 2
    finance.post("/billing/account/", {
        "action": "subsidy", "key": keys[1], "kind": "subsidy", "amount": "360.00",
        "source_document": "城财教〔2026〕45号", "basis": "3 人 × 120 元",
        "received_on": cast.term.start.isoformat(), "term": cast.term.pk})
    assert Subsidy.objects.get().amount == Decimal("360.00")
    too_much = finance.post("/billing/account/", {
        "action": "expense", "key": keys[0], "category": "5003", "amount": "400.00",
        "payee": "文具店", "description": "美术耗材", "document": "发票 001",
        "paid_on": cast.term.start.isoformat()}, follow=True)
    assert "余额不足" in too_much.content.decode() and not Expense.objects.exists()
    page = finance.get("/billing/account/").content.decode()
    key = re.findall(r'name="key" value="([0-9a-f-]+)"', page)[0]
    body = {"action": "expense", "key": key, "category": "5003", "amount": "120.50",
            "payee": "文具店", "description": "美术耗材", "document": "发票 001",
            "paid_on": cast.term.start.isoformat()}
    finance.post("/billing/account/", body)
    finance.post("/billing/account/", body)  # sent twice: spent once
    assert Expense.objects.get().amount == Decimal("120.50")
    # The principal reads; a teacher does not; the principal cannot spend.
    assert "120.50" in client_for(cast.principal).get("/billing/account/").content.decode()
    assert client_for(cast.teacher).get("/billing/account/").status_code == 404
    assert client_for(cast.principal).post("/billing/account/", body).status_code == 404


def test_the_principal_drafts_publishes_and_sets_the_rate_on_the_payroll_page(cast, charged):
    last = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1))
    url = f"/billing/payroll/{last:%Y-%m}/"
    principal = client_for(cast.principal)
    assert "还没有编制" in principal.get(url).content.decode()
    principal.post(url, {"action": "draft"})
    assert Payroll.objects.get(school=cast.school).status == "draft"
    published = principal.post(url, {"action": "publish"}, follow=True).content.decode()
    assert "已公布" in published
    assert Payroll.objects.get(school=cast.school).status == "published"
    later = timezone.localdate() + datetime.timedelta(days=3)
    principal.post(url, {"action": "rate", "rate": "65.00",
                         "effective_from": later.isoformat()})
    assert PayRate.objects.get(school=cast.school).rate == Decimal("65.00")
    past = principal.post(url, {"action": "rate", "rate": "70.00",
                                "effective_from": "2020-01-01"}, follow=True)
    assert PayRate.objects.count() == 1 and past.status_code == 200
    # Finance reads it and cannot draft; a teacher does not see it; a bad month is not there.
    finance = client_for(cast.finance)
    assert finance.get(url).status_code == 200
    assert finance.post(url, {"action": "draft"}).status_code == 404
    assert client_for(cast.teacher).get(url).status_code == 404
    assert principal.get("/billing/payroll/2026-13/").status_code == 404
