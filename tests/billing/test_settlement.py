"""Term-end settlement (学期末结算多退少补), waivers and refunds: the cases a finance officer
tries, each against the ledger on PostgreSQL."""

import datetime
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from billing import ledger, services, settlement
from billing.models import Account, Charge, JournalEntry, Refund, Settlement, Waiver
from billing.selectors import statement
from enrollment.models import Leave
from schools.models import ServiceSlot, TermCalendarDay

from .conftest import afternoons_left

pytestmark = pytest.mark.django_db
TWO = Decimal("2.00")  # an afternoon: 1 class-hour at 2 元


@contextmanager
def on(day: datetime.date, hour: int = 10, minute: int = 0):
    """Run as if it were `day` in Asia/Shanghai."""
    moment = datetime.datetime(day.year, day.month, day.day, hour, minute,
                               tzinfo=ZoneInfo("Asia/Shanghai"))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def after_term(cast) -> datetime.date:
    return cast.term.end + datetime.timedelta(days=1)


def pay(cast, student, amount, key):
    return services.payment_record(user=cast.finance, key=key, student=student, term=cast.term,
                                   amount=Decimal(amount), method="wechat",
                                   reference=f"ref-{key}")


def settle(cast):
    with on(after_term(cast)):
        return settlement.term_settle(term=cast.term, user=cast.principal)


def afternoon(cast, weekday: int) -> ServiceSlot:
    return cast.term.slots.get(kind="afternoon", weekday=weekday)


def next_weekday(start: datetime.date, weekday: int) -> datetime.date:
    return start + datetime.timedelta(days=(weekday - start.isoweekday()) % 7)


def leave(cast, enrolment, day: datetime.date):
    return Leave.objects.create(student=enrolment.student, enrolment=enrolment, date=day,
                                slot=afternoon(cast, day.isoweekday()), reason="发烧",
                                reported_by=cast.parent)


def paid_in_full(cast, charged):
    for name, e in (("c", charged.child), ("s", charged.sibling), ("o", charged.other_child)):
        pay(cast, e.student, statement(e.student, cast.term).balance, name)


def assert_balanced(school_id, day):
    rows = ledger.trial_balance(school_id, day)
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows)


def test_settlement_waits_for_the_last_service_day(cast, charged, api):
    with on(cast.term.end):
        response = api(cast.principal).post(f"/api/v1/terms/{cast.term.pk}/settle/")
    assert response.status_code == 409 and response.json()["code"] == "term_not_ended"
    assert not Settlement.objects.exists()


def test_nothing_changed_settles_to_no_refund_and_a_second_run_posts_nothing(cast, charged):
    paid_in_full(cast, charged)
    first = settle(cast)
    assert first.refunds == [] and first.top_ups == {}
    # The prepaid fees became income, once.
    income = JournalEntry.objects.filter(kind="income")
    assert income.count() == 1
    entries = JournalEntry.objects.count()
    second = settle(cast)
    assert second.settlement.run == 2 and second.settlement.entries == 0
    assert JournalEntry.objects.count() == entries
    assert_balanced(cast.school.pk, after_term(cast))


def test_leave_and_a_closed_day_are_refunded_once_even_when_they_fall_together(cast, charged):
    e = charged.child
    paid_in_full(cast, charged)
    # A day the service did not run (marked a holiday afterwards), with leave reported on it
    # too, and one ordinary leave day.
    closed = next_weekday(e.start_date + datetime.timedelta(days=7), 3)
    TermCalendarDay.objects.create(term=cast.term, date=closed, kind="holiday")
    leave(cast, e, closed)
    leave(cast, e, next_weekday(closed + datetime.timedelta(days=1), 5))
    result = settle(cast)
    refunds = {r.student_id: r.amount for r in result.refunds}
    # The child: the closed day and the leave day; the others lose the closed day only.
    assert refunds == {e.student_id: 2 * TWO, charged.sibling.student_id: TWO,
                       charged.other_child.student_id: TWO}
    refund = next(r for r in result.refunds if r.student_id == e.student_id)
    assert refund.status == "created" and refund.out_refund_no.startswith("TK")
    settle_charge = Charge.objects.get(enrolment=e, kind="settle")
    # One day excused by leave: the leave on the closed day excuses nothing more.
    assert settle_charge.amount == -2 * TWO and settle_charge.basis["excused"] == 1
    assert statement(e.student, cast.term).balance == 0
    assert_balanced(cast.school.pk, after_term(cast))


def test_a_leave_recorded_late_is_corrected_on_the_next_run(cast, charged):
    e = charged.child
    paid_in_full(cast, charged)
    settle(cast)
    leave(cast, e, next_weekday(e.start_date + datetime.timedelta(days=7), 2))
    result = settle(cast)
    assert [r.amount for r in result.refunds if r.student_id == e.student_id] == [TWO]
    # The earlier run's entries are left as they were: the correction is dated on its run.
    assert not JournalEntry.objects.filter(date__lt=after_term(cast), kind="income").exclude(
        source__startswith="income").exists()
    assert Charge.objects.filter(enrolment=e, kind="settle").count() == 1


def test_a_withdrawal_mid_week_is_charged_to_its_last_day(cast, charged):
    from enrollment import services as enrollment

    e = charged.child
    pay(cast, e.student, statement(e.student, cast.term).balance, "c")
    wednesday = next_weekday(e.start_date + datetime.timedelta(days=14), 3)
    w = enrollment.withdrawal_request(enrolment=e, user=cast.parent, effective_date=wednesday,
                                      reason="搬家")
    enrollment.withdrawal_decide(withdrawal=w, principal=cast.principal, approve=True)
    result = settle(cast)
    kept = afternoons_left(cast, e.start_date) - afternoons_left(cast, wednesday) + 1
    due = TWO * kept
    refunded = sum(r.amount for r in result.refunds if r.student_id == e.student_id)
    charged_total = TWO * afternoons_left(cast, e.start_date)
    assert refunded == charged_total - due
    assert statement(e.student, cast.term).balance == 0


def test_a_waiver_after_payment_refunds_and_its_revocation_asks_a_top_up(cast, charged, api):
    e = charged.child
    paid_in_full(cast, charged)
    response = api(cast.principal).post("/api/v1/waivers/", {
        "student": e.student_id, "term": cast.term.pk, "kind": "percent", "value": "50",
        "reason": "低保家庭", "borne_by": "bureau", "evidence": "低保证 2026-0815"},
        format="json")
    assert response.status_code == 201, response.json()
    waiver = Waiver.objects.get()
    charge = TWO * afternoons_left(cast, e.start_date)
    assert Decimal(response.json()["amount"]) == (charge / 2).quantize(Decimal("0.01"))
    result = settle(cast)
    refund = next(r for r in result.refunds if r.student_id == e.student_id)
    assert refund.amount == (charge / 2).quantize(Decimal("0.01"))
    # The bureau owes the school what it bears.
    bureau = next(r for r in ledger.trial_balance(cast.school.pk, after_term(cast))
                  if r.account == Account.BUREAU)
    assert bureau.balance == refund.amount
    # Revoked from the term's start: the family owes it again (the refund stands).
    with on(after_term(cast)):
        revoked = api(cast.principal).post(f"/api/v1/waivers/{waiver.pk}/revoke/", {
            "reason": "复核不符合条件", "effective_from": cast.term.start.isoformat()},
            format="json")
    assert revoked.status_code == 200 and revoked.json()["amount"] == "0.00"
    again = settle(cast)
    assert again.top_ups == {e.student_id: refund.amount}
    second = api(cast.principal).post(f"/api/v1/waivers/{waiver.pk}/revoke/",
                                      {"reason": "再次"}, format="json")
    assert second.status_code == 409 and second.json()["code"] == "already_revoked"


def test_a_full_waiver_leaves_nothing_to_pay_and_percentages_add_up_to_the_fen(cast, charged):
    full = services.waiver_grant(user=cast.principal, student=charged.child.student,
                                 term=cast.term, kind="full", value=None, reason="特困供养",
                                 borne_by="school", evidence="特困证 01")
    assert full.value == 100
    assert statement(cast.child, cast.term).balance == 0
    third = services.waiver_grant(user=cast.principal, student=charged.sibling.student,
                                  term=cast.term, kind="percent", value=Decimal("33.33"),
                                  reason="低保", borne_by="school", evidence="低保证 02")
    s = statement(cast.sibling, cast.term)
    assert s.waived == (s.charged * Decimal("0.3333")).quantize(Decimal("0.01"))
    assert s.waived + s.balance == s.charged
    with pytest.raises(Exception) as refused:
        services.waiver_grant(user=cast.principal, student=charged.sibling.student,
                              term=cast.term, kind="amount", value=Decimal("5"), reason="x",
                              borne_by="school", evidence="y")
    assert getattr(refused.value, "code", "") == "waiver_exists"
    assert third.pk


def test_a_waiver_needs_its_certification(cast, charged, api):
    response = api(cast.principal).post("/api/v1/waivers/", {
        "student": charged.child.student_id, "term": cast.term.pk, "kind": "full",
        "reason": "困难", "borne_by": "school"}, format="json")
    assert response.status_code == 400 and "evidence" in response.json()
    assert not Waiver.objects.exists() and not JournalEntry.objects.filter(kind="waiver")


def test_who_may_grant_waivers_and_settle(cast, charged, api):
    body = {"student": charged.child.student_id, "term": cast.term.pk, "kind": "full",
            "reason": "困难", "borne_by": "school", "evidence": "证"}
    for user in (cast.finance, cast.parent, cast.teacher, cast.principal2):
        assert api(user).post("/api/v1/waivers/", body, format="json").status_code == 404
    with on(after_term(cast)):
        for user in (cast.principal2, cast.finance, cast.parent):
            assert api(user).post(f"/api/v1/terms/{cast.term.pk}/settle/").status_code == 404
        ok = api(cast.principal).post(f"/api/v1/terms/{cast.term.pk}/settle/")
    assert ok.status_code == 200 and set(ok.json()) >= {"refunds", "top_ups", "total_refund",
                                                        "total_top_up"}
    assert api(cast.parent).get("/api/v1/refunds/").json()["results"] == []


def test_refunds_move_forwards_and_a_failed_one_is_refunded_again_under_a_new_number(
        cast, charged, api):
    e = charged.child
    pay(cast, e.student, statement(e.student, cast.term).balance + 10, "over")
    result = settle(cast)
    refund = next(r for r in result.refunds if r.student_id == e.student_id)
    assert refund.amount == 10
    listed = api(cast.finance).get(f"/api/v1/refunds/?term={cast.term.pk}&status=created")
    assert [r["out_refund_no"] for r in listed.json()["results"]] == [refund.out_refund_no]
    failed = api(cast.finance).post(f"/api/v1/refunds/{refund.pk}/failed/",
                                    {"reason": "原支付账户已注销"}, format="json")
    assert failed.status_code == 200 and failed.json()["status"] == "failed"
    assert statement(e.student, cast.term).balance == -10
    again = settle(cast)
    renewed = next(r for r in again.refunds if r.student_id == e.student_id)
    assert renewed.out_refund_no != refund.out_refund_no and renewed.amount == 10
    done = api(cast.finance).post(f"/api/v1/refunds/{renewed.pk}/done/",
                                  {"reference": "50300001"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    same = api(cast.finance).post(f"/api/v1/refunds/{renewed.pk}/done/",
                                  {"reference": "50300001"}, format="json")
    assert same.status_code == 200
    other = api(cast.finance).post(f"/api/v1/refunds/{renewed.pk}/done/",
                                   {"reference": "999"}, format="json")
    assert other.status_code == 409 and other.json()["code"] == "refund_closed"
    assert api(cast.principal).post(f"/api/v1/refunds/{renewed.pk}/done/",
                                    {"reference": "1"}, format="json").status_code == 404
    clearing = next(r for r in ledger.trial_balance(cast.school.pk, after_term(cast))
                    if r.account == Account.REFUNDS_PAYABLE)
    assert clearing.balance == 0
    assert_balanced(cast.school.pk, after_term(cast))


def test_a_refund_is_never_above_what_is_left_of_its_payment(cast, charged):
    e = charged.child
    receipt = pay(cast, e.student, "30.00", "p")
    with on(after_term(cast)), transaction.atomic():
        refunds = settlement.refunds_create(term=cast.term, owed={e.student_id: Decimal("50")},
                                            user=cast.principal, today=after_term(cast))
        assert [r.amount for r in refunds] == [Decimal("30.00")]
        assert refunds[0].payment_id == receipt.body["id"]
        # Nothing is left of that payment for a second refund.
        assert settlement.refunds_create(term=cast.term, owed={e.student_id: Decimal("5")},
                                         user=cast.principal, today=after_term(cast)) == []


def test_the_database_keeps_waivers_and_refund_amounts(cast, charged):
    waiver = services.waiver_grant(user=cast.principal, student=charged.child.student,
                                   term=cast.term, kind="amount", value=Decimal("7.77"),
                                   reason="困难", borne_by="school", evidence="证明")
    pay(cast, charged.sibling.student, "999.00", "x")
    refund = next(r for r in settle(cast).refunds)
    for sql, args in (("UPDATE billing_waiver SET value = 1 WHERE id = %s", [waiver.pk]),
                      ("DELETE FROM billing_waiverposting WHERE waiver_id = %s", [waiver.pk]),
                      ("UPDATE billing_refund SET amount = 1 WHERE id = %s", [refund.pk]),
                      ("DELETE FROM billing_refund WHERE id = %s", [refund.pk])):
        with pytest.raises(InternalError), transaction.atomic(), connection.cursor() as c:
            c.execute(sql, args)
    Refund.objects.filter(pk=refund.pk).update(status="sent")
    with pytest.raises(InternalError), transaction.atomic():
        # A sent refund never goes back.
        Refund.objects.filter(pk=refund.pk).update(status="created")


def test_a_payment_at_2359_on_the_last_day_is_in_the_settlement(cast, charged):
    e = charged.child
    with on(cast.term.end, 23, 59):
        reply = pay(cast, e.student, statement(e.student, cast.term).balance + 1, "late")
    entry = JournalEntry.objects.get(payment__pk=reply.body["id"])
    assert entry.date == cast.term.end
    result = settle(cast)
    assert [r.amount for r in result.refunds if r.student_id == e.student_id] == [Decimal(1)]


def test_the_settlement_job_reports_its_progress_and_its_refusal(cast, charged):
    from billing.tasks import settle_progress, settle_term

    with on(cast.term.end):
        settle_term.delay(cast.term.pk, cast.principal.pk)
    assert settle_progress(cast.term.pk)["stage"] == "failed"
    seen = []
    real = settlement.term_settle

    def watched(**kwargs):
        report = kwargs["progress"]
        kwargs["progress"] = lambda *a: (seen.append(a), report(*a))
        return real(**kwargs)

    with on(after_term(cast)), mock.patch.object(settlement, "term_settle", watched):
        settle_term.delay(cast.term.pk, cast.principal.pk)
    assert seen[0] == ("due", 3, 3) and seen[-1][0] == "refunds"
    done = settle_progress(cast.term.pk)
    assert done["stage"] == "done" and done["enrolments"] == 3 and done["run"] == 1


def test_leaving_and_rejoining_in_one_term_is_charged_for_both_stretches(cast, charged,
                                                                         enrol):
    from enrollment import services as enrollment
    from enrollment.models import Enrolment

    first = charged.child
    # Out a week ahead (the notice), back two school days later, while applications are open.
    out = first.start_date + datetime.timedelta(days=7)
    while out.isoweekday() > 5:
        out += datetime.timedelta(days=1)
    back = out + datetime.timedelta(days=2)
    while back.isoweekday() > 5:
        back += datetime.timedelta(days=1)
    w = enrollment.withdrawal_request(enrolment=first, user=cast.parent, effective_date=out,
                                      reason="外出")
    enrollment.withdrawal_decide(withdrawal=w, principal=cast.principal, approve=True)
    with on(back):
        Enrolment.objects.filter(pk=first.pk).update(status=Enrolment.Status.ENDED)
        second = enrol(cast.child, cast.parent)
    assert second.start_date == back
    pay(cast, cast.child, statement(cast.child, cast.term).balance, "both")
    settle(cast)
    slots = range(1, 6)
    expected = TWO * (afternoons_left(cast, first.start_date, slots)
                      - afternoons_left(cast, out, slots) + 1
                      + afternoons_left(cast, back, slots))
    s = statement(cast.child, cast.term)
    assert s.charged == expected
    # The first stretch was prepaid to the term's end: the gap comes back as a refund.
    assert s.balance == 0 and s.refunded > 0


def test_a_standard_changed_mid_term_settles_each_day_at_its_rate(cast, charged):
    from .conftest import publish_fee

    e = charged.child
    change = next_weekday(e.start_date + datetime.timedelta(days=7), 1)
    with on(change - datetime.timedelta(days=1)):
        publish_fee(cast, rate="3.00", effective_from=change)
    paid_in_full(cast, charged)
    leave(cast, e, next_weekday(change + datetime.timedelta(days=1), 3))  # at 3 元
    leave(cast, e, e.start_date if e.start_date.isoweekday() <= 5
          else next_weekday(e.start_date, 1))  # at 2 元
    result = settle(cast)
    assert [r.amount for r in result.refunds if r.student_id == e.student_id] == [
        Decimal("5.00")]
    assert Charge.objects.get(enrolment=e, kind="settle").basis["rates"] == {
        "v1": "2.00", "v2": "3.00"}


def test_per_term_fees_and_a_third_off_add_up_to_the_fen(cast, enrolled):
    from .conftest import publish_fee

    publish_fee(cast, mode="per_term", rate="100.00")
    for e, value in ((enrolled.child, "33.33"), (enrolled.sibling, "66.67"),
                     (enrolled.other_child, "12.5")):
        services.waiver_grant(user=cast.principal, student=e.student, term=cast.term,
                              kind="percent", value=Decimal(value), reason="困难",
                              borne_by="school", evidence="证明")
        s = statement(e.student, cast.term)
        assert s.waived + s.balance == s.charged  # the family's part is the rest, exactly
    leave(cast, enrolled.sibling, next_weekday(enrolled.sibling.start_date, 2))
    settle(cast)
    for e in (enrolled.child, enrolled.sibling, enrolled.other_child):
        s = statement(e.student, cast.term)
        assert s.waived + s.balance + s.paid - s.refunded == s.charged
    assert_balanced(cast.school.pk, after_term(cast))


def test_a_payment_moved_to_a_sibling_is_refunded_to_the_sibling(cast, charged):
    paid_in_full(cast, charged)
    extra = pay(cast, cast.child, "10.00", "extra")
    services.payment_transfer(payment=services.Payment.objects.get(pk=extra.body["id"]),
                              user=cast.finance, to_student=cast.sibling, reason="错记")
    result = settle(cast)
    refunds = [(r.student_id, r.payment_id, r.amount) for r in result.refunds]
    assert refunds == [(cast.sibling.pk, extra.body["id"], Decimal("10.00"))]
    assert statement(cast.child, cast.term).balance == 0
    assert statement(cast.sibling, cast.term).balance == 0


def test_the_certification_is_read_by_the_principal_only(cast, charged, api):
    services.waiver_grant(user=cast.principal, student=cast.child, term=cast.term, kind="full",
                          value=None, reason="低保", borne_by="school", evidence="低保证 0815")
    mine = api(cast.principal).get("/api/v1/waivers/").json()["results"]
    assert [w["evidence"] for w in mine] == ["低保证 0815"]
    finance = api(cast.finance).get("/api/v1/waivers/").json()["results"]
    assert len(finance) == 1 and "evidence" not in finance[0]
    assert api(cast.parent).get("/api/v1/waivers/").json()["results"] == []
