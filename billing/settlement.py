"""Term-end settlement (学期末结算，多退少补) and the refunds it makes.

After the term's last service day, each enrolment's service actually due is computed: the
slot-days it covered (from its start to its end or withdrawal, on the term's calendar as it
stands, so a day the service did not run and was marked a holiday is not charged), less
reported leave, and less unexplained absences when the school does not charge them, each day
at the standard in force on it. What is posted is the difference from what is already posted:
for each enrolment's charge, for each waiver (now of the service due), for the fee income the
term's prepaid fees become, and a refund for each family the school owes. A second run posts
nothing; a leave recorded late is corrected on the next run; entries are dated on the run's day,
so a closed period is never rewritten.

A refund is a record against one payment (the refunded total never above it, checked under the
payment's row lock), numbered from the school's refund series (`out_refund_no`, never reused),
created → sent → done or failed. A failed refund's payable returns to the family's account, and
the next run refunds it again under a new number."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from attendance.selectors import absences_in_term
from enrollment.selectors import fee_standards_of, term_enrolments, term_leave_days
from schools.audit import audit_record
from schools.errors import Conflict, PolicyViolation
from schools.models import Term, User
from schools.selectors import service_days

from . import ledger
from .charges import (
    Summary,
    TermFees,
    basis_of,
    lock_term,
    posted_charges,
    skip_index,
    summary_of,
)
from .events import BillingAction
from .models import (
    Account,
    Charge,
    JournalEntry,
    JournalLine,
    NumberSeries,
    Payment,
    Refund,
    Settlement,
    Waiver,
)
from .waivers import posted_waivers, waiver_base, waivers_sync

ZERO = Decimal("0.00")


class TermNotEnded(Conflict):
    code = "term_not_ended"
    default_message = gettext_lazy("学期的最后一个服务日还没有过去，不能结算。")


def last_service_day(term: Term) -> datetime.date | None:
    days = service_days(term)
    return days[-1].date if days else None


def _skipped(term: Term, students=None) -> set:
    """The (student, date, slot) not charged: reported leave, and unexplained absences where
    the school does not charge them."""
    skip = term_leave_days(term, students)
    if not term.school.charges_unexplained_absences:
        skip |= absences_in_term(term.pk, students)
    return skip


def due_of(fees: TermFees, enrolment, skipped: dict | None) -> Summary:
    """An enrolment's service actually due (see the module's rule)."""
    return summary_of(fees, list(enrolment.slots.all()), enrolment.start_date,
                      enrolment.end_date, skipped)


def waiver_bases(term: Term, fees: TermFees, waivers: list[Waiver], enrolments: list, *,
                 settled: bool, index: dict | None = None) -> dict[int, Decimal]:
    """What each waiver's days cost: of the prepaid charge before the term is settled, of
    the service due once it is (`index`: the term's skip index, read here when not given)."""
    if settled and index is None:
        index = skip_index(fees, _skipped(term, {w.student_id for w in waivers}))
    by_student = defaultdict(list)
    for e in enrolments:
        by_student[e.student_id].append(e)
    return {w.pk: waiver_base(w, fees, by_student[w.student_id],
                              (index or {}).get(w.student_id) if settled else None)
            for w in waivers}


def _charge_posting(term: Term, enrolment, difference: Decimal, count: int) -> ledger.Posting:
    student = enrolment.student_id
    lines = ([ledger.debit(Account.FAMILIES, difference, student),
              ledger.credit(Account.PREPAID, difference)] if difference > 0 else
             [ledger.debit(Account.PREPAID, -difference),
              ledger.credit(Account.FAMILIES, -difference, student)])
    return ledger.Posting(kind=JournalEntry.Kind.CHARGE, lines=lines, term=term,
                          memo=_("%(term)s 课后服务费（期末结算多退少补）") % {"term": term.name},
                          source=f"charge:{enrolment.pk}:{count + 1}")


def _settle_charges(term, fees, enrolments, due: dict[int, Summary], user, today) -> int:
    posted = posted_charges([e.pk for e in enrolments])
    rows = []
    for e in enrolments:
        amount = due[e.pk].rounded
        already, count = posted.get(e.pk, (ZERO, 0))
        if amount != already:
            # The slot-days the calendar had for it, less those due: leave and absences.
            excused = due_of(fees, e, None).slot_days - due[e.pk].slot_days
            rows.append((e, amount - already, count, basis_of(
                fees, due[e.pk], e.start_date, e.end_date, excused=excused)))
    entries = ledger.post_many(school=term.school_id, user=user, date=today, postings=[
        _charge_posting(term, e, difference, count) for e, difference, count, _b in rows])
    Charge.objects.bulk_create([
        Charge(enrolment=e, student_id=e.student_id, term_id=term.pk, kind=Charge.Kind.SETTLE,
               amount=difference, basis=basis, entry=entry)
        for (e, difference, _c, basis), entry in zip(rows, entries, strict=True)])
    return len(entries)


def _settle_waivers(term, fees, enrolments, index, user, today) -> int:
    waivers = list(Waiver.objects.filter(term=term).select_related("revocation"))
    if not waivers:
        return 0
    base = waiver_bases(term, fees, waivers, enrolments, settled=True, index=index)
    return len(waivers_sync(term=term, waivers=waivers, base=base,
                            posted=posted_waivers(waivers), user=user, date=today))


def _account_balance(term: Term, account: str) -> Decimal:
    """The term's balance of an account, on its credit side."""
    row = JournalLine.objects.filter(entry__term=term, account=account).aggregate(
        d=Sum("debit"), c=Sum("credit"))
    return (row["c"] or ZERO) - (row["d"] or ZERO)


def _recognise_income(term, user, today, run: int) -> int:
    """The term's prepaid fees become fee income once the service is delivered."""
    prepaid = _account_balance(term, Account.PREPAID)
    if prepaid == 0:
        return 0
    lines = ([ledger.debit(Account.PREPAID, prepaid), ledger.credit(Account.FEE_INCOME, prepaid)]
             if prepaid > 0 else
             [ledger.debit(Account.FEE_INCOME, -prepaid),
              ledger.credit(Account.PREPAID, -prepaid)])
    ledger.post(school=term.school_id, user=user, date=today, kind=JournalEntry.Kind.INCOME,
                term=term, source=f"income:{term.pk}:{run}", lines=lines,
                memo=_("%(term)s 课后服务费确认收入") % {"term": term.name})
    return 1


def family_balances(term: Term) -> dict[int, Decimal]:
    """Each child's balance in the family receivable for the term (positive: the family owes;
    negative: the school owes them). One query."""
    return {row["student_id"]: (row["d"] or ZERO) - (row["c"] or ZERO) for row in
            JournalLine.objects.filter(entry__term=term, account=Account.FAMILIES)
            .values("student_id").annotate(d=Sum("debit"), c=Sum("credit"))}


def refundable(payments: list[Payment]) -> dict[int, Decimal]:
    """What is left to refund of each payment: not voided, less its refunds that did not
    fail. The caller holds the payments' row locks."""
    ids = [p.pk for p in payments]
    voided = set(Payment.objects.filter(voids_id__in=ids).values_list("voids_id", flat=True))
    refunded = dict(Refund.objects.filter(payment_id__in=ids).exclude(
        status=Refund.Status.FAILED).values("payment_id").annotate(t=Sum("amount"))
        .values_list("payment_id", "t"))
    return {p.pk: ZERO if p.pk in voided else p.amount - refunded.get(p.pk, ZERO)
            for p in payments}


def _out_refund_no(school_id: int, year: int, number: int) -> str:
    return f"TK{year}{school_id:05d}{number:06d}"


def refunds_create(*, term: Term, owed: dict[int, Decimal], user: User,
                   today: datetime.date) -> list[Refund]:
    """Refund each child's `owed` amount against their payments of the term, latest first,
    never more than a payment has left (under the payments' row locks). A payment moved to
    another child (a transfer) is that child's to be refunded."""
    if not owed:
        return []
    students = list(owed)
    payments = list(Payment.objects.select_for_update(of=("self",)).filter(
        Q(student_id__in=students, transfer__isnull=True)
        | Q(transfer__to_student_id__in=students), term=term, kind=Payment.Kind.PAYMENT)
        .select_related("transfer").order_by("-receipt_year", "-receipt_number"))
    left = refundable(payments)
    plan = []
    by_student = defaultdict(list)
    for p in payments:
        transfer = getattr(p, "transfer", None)  # a reverse one-to-one: absent is None
        by_student[transfer.to_student_id if transfer else p.student_id].append(p)
    for student_id, amount in owed.items():
        for p in by_student.get(student_id, []):
            if amount <= 0:
                break
            share = min(amount, left[p.pk])
            if share > 0:
                plan.append((p, share, student_id))
                amount -= share
    if not plan:
        return []
    first = ledger.next_number(term.school_id, NumberSeries.Series.REFUND, today.year, len(plan))
    numbers = [_out_refund_no(term.school_id, today.year, first + i) for i in range(len(plan))]
    entries = ledger.post_many(school=term.school_id, user=user, date=today, postings=[
        ledger.Posting(kind=JournalEntry.Kind.REFUND, term=term, source=f"refund:{no}",
                       memo=_("%(term)s 期末结算应退费 %(no)s（收据 %(receipt)s）") % {
                           "term": term.name, "no": no, "receipt": p.receipt_no},
                       lines=[ledger.debit(Account.FAMILIES, share, student_id),
                              ledger.credit(Account.REFUNDS_PAYABLE, share)])
        for (p, share, student_id), no in zip(plan, numbers, strict=True)])
    return Refund.objects.bulk_create([
        Refund(school_id=term.school_id, term=term, student_id=student_id, payment=p,
               amount=share, out_refund_no=no, entry=entry, created_by=user)
        for (p, share, student_id), no, entry in zip(plan, numbers, entries, strict=True)])


@dataclass
class Settled:
    settlement: Settlement
    refunds: list[Refund]
    top_ups: dict[int, Decimal]

    @property
    def total_refund(self) -> Decimal:
        return sum((r.amount for r in self.refunds), ZERO)

    @property
    def total_top_up(self) -> Decimal:
        return sum(self.top_ups.values(), ZERO)


def settled_state(term: Term, settlement: Settlement,
                  balances: dict[int, Decimal] | None = None) -> Settled:
    """The term's refunds that stand (not failed) and the top-ups families still owe."""
    refunds = list(Refund.objects.filter(term=term).exclude(status=Refund.Status.FAILED)
                   .order_by("pk"))
    balances = family_balances(term) if balances is None else balances
    return Settled(settlement, refunds, {s: b for s, b in sorted(balances.items()) if b > 0})


# How often a long settlement reports how far it got (enrolments computed).
PROGRESS_EVERY = 1000


def _quiet(stage: str, done: int, total: int) -> None:
    pass


@transaction.atomic
def term_settle(*, term: Term, user: User, progress=_quiet) -> Settled:
    """Settle every enrolment of the term (see the module's rule). One transaction; a bounded
    number of queries whatever the number of enrolments. `progress(stage, done, total)` hears
    how far it got (the city-scale job shows it)."""
    lock_term(term.pk)  # two runs, or a run and a late approval, take turns
    today = timezone.localdate()
    last = last_service_day(term)
    if last is None or today <= last:
        raise TermNotEnded()
    enrolments = list(term_enrolments(term))
    fees = TermFees.of(term, fee_standards_of(term))
    index = skip_index(fees, _skipped(term))
    total_n = len(enrolments)
    due = {}
    for i, e in enumerate(enrolments, start=1):
        due[e.pk] = due_of(fees, e, index.get(e.student_id))
        if i % PROGRESS_EVERY == 0 or i == total_n:
            progress("due", i, total_n)
    run = Settlement.objects.filter(term=term).count() + 1
    entries = _settle_charges(term, fees, enrolments, due, user, today)
    progress("charges", total_n, total_n)
    entries += _settle_waivers(term, fees, enrolments, index, user, today)
    entries += _recognise_income(term, user, today, run)
    balances = family_balances(term)
    owed = {s: -b for s, b in balances.items() if b < 0}
    refunds = refunds_create(term=term, owed=owed, user=user, today=today)
    progress("refunds", total_n, total_n)
    entries += len(refunds)
    for r in refunds:
        balances[r.student_id] += r.amount
    refunded = sum((r.amount for r in refunds), ZERO)
    settlement = Settlement.objects.create(
        term=term, run=run, enrolments=len(enrolments), entries=entries, refunded=refunded,
        top_ups=sum((b for b in balances.values() if b > 0), ZERO), settled_by=user,
        settled_at=timezone.now())
    audit_record(actor=user, action=BillingAction.TERM_SETTLED, obj=settlement,
                 school=term.school_id, data={"term": term.pk, "run": run, "entries": entries,
                                              "refunded": str(refunded)})
    return settled_state(term, settlement, balances)


# --- Refunds: sent, done, failed --------------------------------------------------------------

def _refund_locked(refund: Refund) -> Refund:
    return Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)


def _closed(refund: Refund) -> Conflict:
    return Conflict(_("退费单 %(no)s 已经%(status)s。") % {
        "no": refund.out_refund_no, "status": refund.get_status_display()},
        code="refund_closed")


@transaction.atomic
def refund_sent(*, refund: Refund, user: User) -> Refund:
    """The refund was submitted to the payment platform or the bank."""
    refund = _refund_locked(refund)
    if refund.status == Refund.Status.SENT:
        return refund
    if refund.status != Refund.Status.CREATED:
        raise _closed(refund)
    refund.status, refund.updated_by, refund.updated_at = Refund.Status.SENT, user, timezone.now()
    refund.save(update_fields=["status", "updated_by", "updated_at"])
    audit_record(actor=user, action=BillingAction.REFUND_SENT, obj=refund,
                 school=refund.school_id, data={"out_refund_no": refund.out_refund_no})
    return refund


@transaction.atomic
def refund_done(*, refund: Refund, user: User, reference: str) -> Refund:
    """The money left the dedicated account: the payable is paid from where the payment
    landed. Sent again with the same reference it answers the same; with another, 409."""
    reference = reference.strip()
    if not reference:
        raise PolicyViolation(_("请填写退款交易号。"), field="reference")
    refund = _refund_locked(refund)
    if refund.status == Refund.Status.DONE and refund.reference == reference:
        return refund
    if refund.status not in (Refund.Status.CREATED, Refund.Status.SENT):
        raise _closed(refund)
    entry = ledger.post(
        school=refund.school_id, user=user, kind=JournalEntry.Kind.REFUND_PAID,
        term=refund.term_id, source=f"refund-paid:{refund.out_refund_no}",
        memo=_("退费 %(no)s 已支付") % {"no": refund.out_refund_no},
        lines=[ledger.debit(Account.REFUNDS_PAYABLE, refund.amount),
               ledger.credit(ledger.LANDS_IN[refund.payment.method], refund.amount)])
    refund.status, refund.reference, refund.closing_entry = Refund.Status.DONE, reference, entry
    refund.updated_by, refund.updated_at = user, timezone.now()
    refund.save(update_fields=["status", "reference", "closing_entry", "updated_by",
                               "updated_at"])
    audit_record(actor=user, action=BillingAction.REFUND_DONE, obj=refund,
                 school=refund.school_id, data={"out_refund_no": refund.out_refund_no,
                                                "amount": str(refund.amount),
                                                "reference": reference})
    return refund


@transaction.atomic
def refund_failed(*, refund: Refund, user: User, reason: str) -> Refund:
    """The platform or bank refused: the payable goes back to the family's account, for the
    next settlement to refund under a new number."""
    reason = reason.strip()
    if not reason:
        raise PolicyViolation(_("请填写失败原因。"), field="reason")
    refund = _refund_locked(refund)
    if refund.status not in (Refund.Status.CREATED, Refund.Status.SENT):
        raise _closed(refund)
    entry = ledger.post(
        school=refund.school_id, user=user, kind=JournalEntry.Kind.REFUND_FAILED,
        term=refund.term_id, source=f"refund-failed:{refund.out_refund_no}",
        memo=_("退费 %(no)s 失败，转回家长账户") % {"no": refund.out_refund_no},
        lines=[ledger.debit(Account.REFUNDS_PAYABLE, refund.amount),
               ledger.credit(Account.FAMILIES, refund.amount, refund.student_id)])
    refund.status, refund.failure, refund.closing_entry = (Refund.Status.FAILED, reason[:200],
                                                           entry)
    refund.updated_by, refund.updated_at = user, timezone.now()
    refund.save(update_fields=["status", "failure", "closing_entry", "updated_by",
                               "updated_at"])
    audit_record(actor=user, action=BillingAction.REFUND_FAILED, obj=refund,
                 school=refund.school_id, data={"out_refund_no": refund.out_refund_no,
                                                "reason": reason})
    return refund

