"""Payments and receipts through the API (API.md, Billing): the Idempotency-Key, gap-free
receipt numbers, voids, the statement, the ledger's reports, and who may do what."""

import datetime
import threading
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing import services
from billing.models import IdempotentRequest, JournalEntry, Payment
from schools.models import AuditEntry, User


def _pay(api, user, child, term, key="k1", **body):
    data = {"student": child.pk, "term": term.pk, "amount": "100.00", "method": "wechat",
            "reference": "4200001234", **body}
    return api(user).post("/api/v1/payments/", data, format="json",
                          **({"HTTP_IDEMPOTENCY_KEY": key} if key else {}))


@pytest.mark.django_db
def test_finance_records_a_payment_and_the_same_key_gives_the_same_receipt(cast, charged, api):
    first = _pay(api, cast.finance, cast.child, cast.term)
    assert first.status_code == 201, first.json()
    again = _pay(api, cast.finance, cast.child, cast.term)
    assert again.status_code == 201 and again.json() == first.json()
    other_body = _pay(api, cast.finance, cast.child, cast.term, amount="99.00")
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert first.json()["receipt_no"] == payment.receipt_no.strip()
    assert AuditEntry.objects.filter(action="billing.payment.recorded").count() == 1
    lines = {(line.account, line.debit, line.credit) for line in payment.entry.lines.all()}
    assert lines == {("1012", Decimal("100.00"), 0), ("1221", 0, Decimal("100.00"))}


@pytest.mark.django_db
def test_receipt_numbers_follow_each_other_and_a_refused_payment_takes_none(cast, charged, api):
    a = _pay(api, cast.finance, cast.child, cast.term, key="a", reference="r1")
    refused = _pay(api, cast.finance, cast.child, cast.term, key="b", reference="r1")
    assert refused.status_code == 409 and refused.json()["code"] == "duplicate_reference"
    c = _pay(api, cast.finance, cast.sibling, cast.term, key="c", reference="r2")
    year = a.json()["receipt_no"][:4]
    assert [a.json()["receipt_no"], c.json()["receipt_no"]] == [f"{year}000001",
                                                                f"{year}000002"]
    # A cash payment needs no reference; another method does.
    cash = _pay(api, cast.finance, cast.child, cast.term, key="d", method="cash", reference="")
    assert cash.status_code == 201
    missing = _pay(api, cast.finance, cast.child, cast.term, key="e", method="bank",
                   reference="")
    assert missing.status_code == 400 and "reference" in str(missing.json())


@pytest.mark.django_db
@pytest.mark.parametrize("body,field", [
    ({"amount": "0"}, "amount"), ({"amount": "-5"}, "amount"), ({"amount": "1.005"}, "amount"),
    ({"method": "bitcoin"}, "method"), ({"student": "x"}, "student"),
])
def test_a_bad_payment_is_refused_naming_the_field(cast, charged, api, body, field):
    response = _pay(api, cast.finance, cast.child, cast.term, **body)
    assert response.status_code == 400 and field in str(response.json())
    assert not Payment.objects.exists() and not IdempotentRequest.objects.exists()


@pytest.mark.django_db
def test_who_may_record_a_payment(cast, charged, api):
    assert _pay(api, cast.teacher, cast.child, cast.term).status_code == 403
    assert _pay(api, cast.principal, cast.child, cast.term).status_code == 403
    assert _pay(api, cast.parent, cast.child, cast.term).status_code == 403
    assert _pay(api, cast.finance, cast.other_school_child, cast.other_term).status_code == 404
    assert _pay(api, cast.finance, cast.child, cast.other_term).status_code == 404
    missing = _pay(api, cast.finance, cast.child, cast.term, key=None)
    assert missing.status_code == 400 and "Idempotency-Key" in str(missing.json())
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_a_void_is_a_reversing_receipt_and_only_one(cast, charged, api):
    paid = _pay(api, cast.finance, cast.child, cast.term).json()
    url = f"/api/v1/payments/{paid['id']}/void/"
    assert api(cast.finance).post(url, {}, format="json").status_code == 400
    assert api(cast.teacher).post(url, {"reason": "x"}, format="json").status_code == 403
    void = api(cast.finance).post(url, {"reason": "收错了学生"}, format="json")
    assert void.status_code == 201, void.json()
    assert void.json()["voids"] == paid["receipt_no"]
    assert void.json()["receipt_no"] != paid["receipt_no"]
    second = api(cast.finance).post(url, {"reason": "again"}, format="json")
    assert second.status_code == 409 and second.json()["code"] == "already_voided"
    void_row = Payment.objects.get(kind="void")
    assert void_row.entry.reverses == Payment.objects.get(kind="payment").entry
    statement = api(cast.parent).get(f"/api/v1/students/{cast.child.pk}/statement/").json()
    assert statement["paid"] == "0.00"
    assert statement["balance"] == statement["charged"]


@pytest.mark.django_db
def test_the_statement_is_the_family_s_own(cast, charged, api):
    _pay(api, cast.finance, cast.child, cast.term)
    url = f"/api/v1/students/{cast.child.pk}/statement/?term={cast.term.pk}"
    mine = api(cast.parent).get(url)
    assert mine.status_code == 200
    body = mine.json()
    assert Decimal(body["balance"]) == Decimal(body["charged"]) - Decimal("100.00")
    assert [p["amount"] for p in body["payments"]] == ["100.00"]
    for user in (cast.parent2, cast.principal2, cast.teacher, cast.officer2):
        assert api(user).get(url).status_code == 404
    for user in (cast.principal, cast.finance):
        theirs = api(user).get(url).json()
        assert {**theirs, "as_of": None} == {**body, "as_of": None}
    bad = api(cast.parent).get(f"/api/v1/students/{cast.child.pk}/statement/?term=x")
    assert bad.status_code == 400 and "term" in str(bad.json())


@pytest.mark.django_db
def test_the_ledger_reports_balance_and_are_scoped(cast, charged, api):
    _pay(api, cast.finance, cast.child, cast.term)
    url = f"/api/v1/schools/{cast.school.pk}/ledger/"
    for user in (cast.finance, cast.principal, cast.officer):
        tb = api(user).get(url + "trial-balance/")
        assert tb.status_code == 200
        assert tb.json()["total_debit"] == tb.json()["total_credit"] != "0.00"
        journal = api(user).get(url + "journal/?from=2000-01-01&to=2000-12-31")
        assert journal.status_code == 200 and journal.json()["entries"] == []
    entries = api(cast.finance).get(url + "journal/").json()["entries"]
    assert len(entries) == JournalEntry.objects.count() == 4  # three charges, one payment
    for user in (cast.principal2, cast.officer2, cast.teacher, cast.parent):
        assert api(user).get(url + "trial-balance/").status_code == 404
        assert api(user).get(url + "journal/").status_code == 404
    bad = api(cast.finance).get(url + "journal/?from=2026-13-01")
    assert bad.status_code == 400 and "from" in str(bad.json())


@pytest.mark.django_db
def test_a_payment_at_23_59_on_new_year_s_eve_is_that_year_s_receipt(cast, charged, api):
    late = datetime.datetime(2026, 12, 31, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    with mock.patch("django.utils.timezone.now", return_value=late):
        response = _pay(api, cast.finance, cast.child, cast.term)
    assert response.status_code == 201
    assert response.json()["receipt_no"].startswith("2026")
    assert Payment.objects.get().entry.date == datetime.date(2026, 12, 31)


def _race(user, bodies, key_for):
    barrier = threading.Barrier(len(bodies))
    outcomes, lock = [], threading.Lock()

    def send(i, body):
        try:
            client = APIClient()
            client.force_authenticate(User.objects.get(pk=user.pk))
            barrier.wait(timeout=20)
            r = client.post("/api/v1/payments/", body, format="json",
                            HTTP_IDEMPOTENCY_KEY=key_for(i))
            outcome = (r.status_code, r.json())
        except Exception as exc:  # a thread's failure is an outcome, not a silent absence
            outcome = (0, {"error": repr(exc)})
        finally:
            with lock:
                outcomes.append(outcome)
            connection.close()

    threads = [threading.Thread(target=send, args=(i, b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_the_same_payment_sent_three_times_at_once_is_one_receipt(cast, charged, monkeypatch):
    """Cash has no payer's reference for the database to refuse twice: only the key keeps the
    three copies to one receipt."""
    body = {"student": cast.child.pk, "term": cast.term.pk, "amount": "100.00",
            "method": "cash"}
    outcomes = _race(cast.finance, [body] * 3, lambda i: "same")
    assert [s for s, _b in outcomes] == [201, 201, 201], outcomes
    assert len({b["receipt_no"] for _s, b in outcomes}) == 1
    assert Payment.objects.count() == 1
    # The control: without the key's claim the same three copies are three receipts, numbered
    # one after another without a gap.
    monkeypatch.setattr(services, "_claim", lambda user, key, body: None)
    outcomes = _race(cast.finance, [body] * 3, lambda i: "again")
    assert sorted(s for s, _b in outcomes) == [201, 201, 201]
    assert sorted(p.receipt_number for p in Payment.objects.all()) == [1, 2, 3, 4]


@pytest.mark.django_db
def test_a_payment_for_the_wrong_sibling_is_moved_by_a_transfer(cast, charged, api):
    from billing.selectors import statement

    paid = _pay(api, cast.finance, cast.child, cast.term, amount="40.00")
    payment_id = paid.json()["id"]
    before = {s: statement(s, cast.term).balance for s in (cast.child, cast.sibling)}
    url = f"/api/v1/payments/{payment_id}/transfer/"
    moved = api(cast.finance).post(url, {"student": cast.sibling.pk, "reason": "应记在姐姐名下"},
                                   format="json")
    assert moved.status_code == 201, moved.json()
    assert statement(cast.child, cast.term).balance == before[cast.child] + 40
    sibling = statement(cast.sibling, cast.term)
    assert sibling.balance == before[cast.sibling] - 40 and sibling.transferred == 40
    # The receipt is as printed; a second transfer is refused; a teacher may not move money.
    assert Payment.objects.get(pk=payment_id).student_id == cast.child.pk
    again = api(cast.finance).post(url, {"student": cast.sibling.pk, "reason": "再次"},
                                   format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_transferred"
    assert api(cast.teacher).post(url, {"student": cast.sibling.pk, "reason": "x"},
                                  format="json").status_code == 403
    # Only to a child of the school.
    other = _pay(api, cast.finance, cast.child, cast.term, key="k2", reference="r9").json()
    outsider = api(cast.finance).post(f"/api/v1/payments/{other['id']}/transfer/",
                                      {"student": cast.other_school_child.pk, "reason": "x"},
                                      format="json")
    assert outsider.status_code == 404


@pytest.mark.django_db
def test_the_fiscal_e_receipt_is_recorded_once(cast, charged, api):
    paid = _pay(api, cast.finance, cast.child, cast.term).json()
    url = f"/api/v1/payments/{paid['id']}/fiscal-receipt/"
    first = api(cast.finance).post(url, {"code": "14010126", "number": "0000123456"},
                                   format="json")
    assert first.status_code == 200 and first.json()["fiscal_number"] == "0000123456"
    same = api(cast.finance).post(url, {"code": "14010126", "number": "0000123456"},
                                  format="json")
    assert same.status_code == 200
    other = api(cast.finance).post(url, {"code": "14010126", "number": "9"}, format="json")
    assert other.status_code == 409 and other.json()["code"] == "fiscal_receipt_recorded"
    fresh = _pay(api, cast.finance, cast.sibling, cast.term, key="k2", reference="r2").json()
    bad = api(cast.finance).post(f"/api/v1/payments/{fresh['id']}/fiscal-receipt/",
                                 {"code": "=1+1", "number": "1"}, format="json")
    assert bad.status_code == 400 and "code" in bad.json()
    assert api(cast.teacher).post(url, {"code": "1", "number": "1"},
                                  format="json").status_code == 403
    assert AuditEntry.objects.filter(action="billing.payment.fiscal_receipt").count() == 1
