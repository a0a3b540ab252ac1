"""Every write of the billing stage: one function per action, one transaction, audited, and
each money movement a balanced entry of the school's ledger."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from schools.audit import audit_record
from schools.errors import Conflict, DomainError, PolicyViolation
from schools.idempotency import Reply, claim_key, fingerprint, remember_key, stored_reply
from schools.models import Student, Term, User

from . import ledger
from .charges import charges_sync
from .events import BillingAction
from .models import (
    REFERENCE_UNIQUE,
    Account,
    IdempotentRequest,
    JournalEntry,
    NumberSeries,
    Payment,
    receipt_no,
)

Method = Payment.Method
# Where a payment lands: cash and transfers in the dedicated bank account, WeChat Pay and
# Alipay in the clearing account until the platform settles to the bank.
LANDS_IN = {Method.BANK: Account.BANK, Method.CASH: Account.BANK,
            Method.WECHAT: Account.CLEARING, Method.ALIPAY: Account.CLEARING}
MAX_PAYMENT = Decimal("100000.00")


# --- Charges, as enrollment announces enrolments and fee standards ---------------------------

def on_enrolments_started(sender, *, enrolments, user, **kwargs) -> None:
    """An approval's enrolments are charged for the term in its transaction (R11)."""
    charges_sync(enrolments=enrolments, user=user)


def on_fee_standard_published(sender, *, standard, user, **kwargs) -> None:
    """A fee version charges the term's enrolments that had none, and posts the difference a
    new rate makes to the others."""
    from enrollment.selectors import enrolments_in_force

    term = standard.term
    charges_sync(enrolments=enrolments_in_force(term, term.start, term.end), user=user)


# --- Idempotency-Key ------------------------------------------------------------------------

class KeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    default_message = gettext_lazy("这个 Idempotency-Key 已用于另一笔不同的请求。")


class DuplicateReference(Conflict):
    """The payer's transaction reference is recorded already (unique per method)."""

    code = "duplicate_reference"

    def __init__(self, reference: str):
        super().__init__(_("这笔交易（%(ref)s）已经登记过。") % {"ref": reference},
                         field="reference")


def _claim(user: User, key: str, body: dict) -> Reply | None:
    """Claim the key inside the caller's transaction: None if new; else the stored reply (a
    concurrent request with the same key waits for the first to commit)."""
    print_ = fingerprint("payment", body)
    stored = claim_key(IdempotentRequest, key={"user": user.pk, "key": key},
                       values={"fingerprint": print_}, created="created_at")
    if stored is None:
        return None
    if stored.fingerprint != print_:
        raise KeyReused(field="Idempotency-Key")
    return stored_reply(stored)


def _remember(user: User, key: str, reply: Reply) -> Reply:
    return remember_key(IdempotentRequest, key={"user": user.pk, "key": key}, reply=reply)


# --- Payments and receipts ------------------------------------------------------------------

def payment_json(p: Payment) -> dict:
    return {"id": p.pk, "receipt_no": p.receipt_no, "kind": p.kind, "student": p.student_id,
            "term": p.term_id, "amount": str(p.amount), "method": p.method,
            "reference": p.reference, "voids": p.voids_id, "reason": p.reason,
            "received_at": timezone.localtime(p.received_at).isoformat(),
            "fiscal_code": p.fiscal_code, "fiscal_number": p.fiscal_number}


def _receipt(school_id: int, now) -> tuple[int, int]:
    year = timezone.localdate(now).year
    return year, ledger.next_number(school_id, NumberSeries.Series.RECEIPT, year)


@transaction.atomic
def payment_record(*, user: User, key: str, student: Student, term: Term, amount: Decimal,
                   method: str, reference: str = "") -> Reply:
    """Record a payment and give it the next receipt number (R11: every payment gets one).
    The same `key` again answers the same receipt; with another body, 422."""
    reference = reference.strip()
    body = {"student": student.pk, "term": term.pk, "amount": str(amount), "method": method,
            "reference": reference}
    if (replay := _claim(user, key, body)):
        return replay
    if term.school_id != student.school_id:
        raise PolicyViolation(_("学期与学生不属于同一所学校。"), field="term")
    if not Decimal("0") < amount <= MAX_PAYMENT or amount != amount.quantize(ledger.CENT):
        raise PolicyViolation(_("金额须大于 0、不超过 %(max)s 元，精确到分。")
                              % {"max": MAX_PAYMENT}, field="amount")
    if method not in Method.values:
        raise PolicyViolation(_("未知的支付方式。"), field="method")
    if method != Method.CASH and not reference:
        raise PolicyViolation(_("请填写交易单号（现金除外）。"), field="reference")
    if reference and Payment.objects.filter(method=method, reference=reference,
                                            kind=Payment.Kind.PAYMENT).exists():
        raise DuplicateReference(reference)
    now = timezone.now()
    year, number = _receipt(term.school_id, now)
    # The memo names the receipt, not the child: the journal is read by the district too, and
    # the family receivable's line carries the child.
    entry = ledger.post(
        school=term.school_id, kind=JournalEntry.Kind.PAYMENT, term=term, user=user,
        source=f"receipt:{term.school_id}:{year}:{number}",
        memo=_("收课后服务费，收据 %(no)s（%(method)s）") % {
            "no": receipt_no(year, number), "method": Method(method).label},
        date=timezone.localdate(now),
        lines=[ledger.debit(LANDS_IN[method], amount),
               ledger.credit(Account.FAMILIES, amount, student)])
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                school_id=term.school_id, term=term, student=student, amount=amount,
                method=method, reference=reference, receipt_year=year, receipt_number=number,
                entry=entry, received_by=user, received_at=now)
    except IntegrityError as exc:
        # The same reference, recorded a moment ago under another key.
        if REFERENCE_UNIQUE not in str(exc):
            raise
        raise DuplicateReference(reference) from exc
    audit_record(actor=user, action=BillingAction.PAYMENT_RECORDED, obj=payment,
                 school=term.school_id, data={"amount": str(amount), "method": method,
                                              "receipt_no": payment.receipt_no,
                                              "student": student.pk})
    return _remember(user, key, Reply(201, payment_json(payment)))


@transaction.atomic
def payment_void(*, payment: Payment, user: User, reason: str) -> Payment:
    """Void a mistaken payment with a reversing receipt that refers to it (at most one)."""
    reason = reason.strip()
    if not reason:
        raise PolicyViolation(_("请填写冲销原因。"), field="reason")
    payment = Payment.objects.select_for_update().select_related("entry", "student").get(
        pk=payment.pk)
    if payment.kind != Payment.Kind.PAYMENT:
        raise Conflict(_("冲销收据不能再冲销。"), code="not_a_payment")
    if Payment.objects.filter(voids=payment).exists():
        raise Conflict(_("收据 %(no)s 已经冲销过。") % {"no": payment.receipt_no},
                       code="already_voided")
    now = timezone.now()
    year, number = _receipt(payment.school_id, now)
    entry = ledger.reverse(payment.entry, kind=JournalEntry.Kind.VOID, user=user,
                           source=f"receipt:{payment.school_id}:{year}:{number}",
                           memo=_("冲销收据 %(no)s：%(reason)s") % {"no": payment.receipt_no,
                                                                "reason": reason})
    void = Payment.objects.create(
        school_id=payment.school_id, term_id=payment.term_id, student=payment.student,
        kind=Payment.Kind.VOID, amount=payment.amount, method=payment.method,
        receipt_year=year, receipt_number=number, voids=payment, reason=reason[:200],
        entry=entry, received_by=user, received_at=now)
    audit_record(actor=user, action=BillingAction.PAYMENT_VOIDED, obj=void,
                 school=payment.school_id, data={"voids": payment.receipt_no,
                                                 "amount": str(payment.amount),
                                                 "reason": reason})
    return void
