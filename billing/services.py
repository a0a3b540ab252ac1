"""Every write of the billing stage: one function per action, one transaction, audited, and
each money movement a balanced entry of the school's ledger."""

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrollment.selectors import fee_standards_of, low_income_certified, term_enrolments
from schools.audit import audit_record
from schools.errors import Conflict, DomainError, PolicyViolation
from schools.idempotency import Reply, claim_key, fingerprint, remember_key, stored_reply
from schools.models import Student, Term, User

from . import ledger
from .charges import TermFees, charges_sync, lock_term
from .events import BillingAction
from .models import (
    REFERENCE_UNIQUE,
    SPENDING,
    Account,
    Expense,
    IdempotentRequest,
    JournalEntry,
    JournalLine,
    NumberSeries,
    Payment,
    PaymentTransfer,
    Settlement,
    Subsidy,
    Waiver,
    WaiverRevocation,
    receipt_no,
)
from .settlement import waiver_bases
from .waivers import posted_waivers, waivers_sync

Method = Payment.Method
LANDS_IN = ledger.LANDS_IN
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


def _claim(user: User, key: str, body: dict, what: str = "payment") -> Reply | None:
    """Claim the key inside the caller's transaction: None if new; else the stored reply (a
    concurrent request with the same key waits for the first to commit)."""
    print_ = fingerprint(what, body)
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


@transaction.atomic
def payment_fiscal_receipt(*, payment: Payment, user: User, code: str, number: str) -> Payment:
    """Record the fiscal e-receipt (财政电子票据) the fiscal platform issued for a receipt: once;
    the same again answers the same, another is refused (409)."""
    code, number = code.strip(), number.strip()
    for field, value in (("code", code), ("number", number)):
        if not value or len(value) > 30 or not value.isascii() or not value.isalnum():
            raise PolicyViolation(_("请填写财政票据代码和号码（字母或数字，最多 30 位）。"),
                                  field=field)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.fiscal_code or payment.fiscal_number:
        if (payment.fiscal_code, payment.fiscal_number) == (code, number):
            return payment
        raise Conflict(_("收据 %(no)s 已登记财政电子票据 %(code)s/%(number)s。") % {
            "no": payment.receipt_no, "code": payment.fiscal_code,
            "number": payment.fiscal_number}, code="fiscal_receipt_recorded")
    payment.fiscal_code, payment.fiscal_number = code, number
    payment.save(update_fields=["fiscal_code", "fiscal_number"])
    audit_record(actor=user, action=BillingAction.FISCAL_RECEIPT_RECORDED, obj=payment,
                 school=payment.school_id, data={"receipt_no": payment.receipt_no,
                                                 "fiscal_code": code, "fiscal_number": number})
    return payment


@transaction.atomic
def payment_transfer(*, payment: Payment, user: User, to_student: Student,
                     reason: str) -> PaymentTransfer:
    """Move a payment recorded against the wrong child to the right one (a sibling, say): a
    transfer entry between their family accounts; the receipt stays as it was printed."""
    reason = reason.strip()
    if not reason:
        raise PolicyViolation(_("请填写转记原因。"), field="reason")
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.kind != Payment.Kind.PAYMENT:
        raise Conflict(_("冲销收据不能转记。"), code="not_a_payment")
    if Payment.objects.filter(voids=payment).exists():
        raise Conflict(_("收据 %(no)s 已经冲销。") % {"no": payment.receipt_no},
                       code="already_voided")
    if PaymentTransfer.objects.filter(payment=payment).exists():
        raise Conflict(_("收据 %(no)s 已经转记过。") % {"no": payment.receipt_no},
                       code="already_transferred")
    if to_student.pk == payment.student_id or to_student.school_id != payment.school_id:
        raise PolicyViolation(_("请选择本校的另一名学生。"), field="student")
    if not term_enrolments(payment.term_id, [to_student]).exists():
        raise PolicyViolation(_("这名学生本学期没有参加课后服务。"), field="student")
    entry = ledger.post(
        school=payment.school_id, user=user, kind=JournalEntry.Kind.TRANSFER,
        term=payment.term_id, source=f"transfer:{payment.pk}",
        memo=_("收据 %(no)s 转记：%(reason)s") % {"no": payment.receipt_no, "reason": reason},
        lines=[ledger.debit(Account.FAMILIES, payment.amount, payment.student_id),
               ledger.credit(Account.FAMILIES, payment.amount, to_student.pk)])
    transfer = PaymentTransfer.objects.create(
        payment=payment, from_student_id=payment.student_id, to_student=to_student,
        amount=payment.amount, reason=reason[:200], entry=entry, transferred_by=user)
    audit_record(actor=user, action=BillingAction.PAYMENT_TRANSFERRED, obj=transfer,
                 school=payment.school_id, data={"receipt_no": payment.receipt_no,
                                                 "from": payment.student_id,
                                                 "to": to_student.pk, "reason": reason})
    return transfer


# --- Waivers (R11) ---------------------------------------------------------------------------

def _sync_waivers(term: Term, student: Student, user: User) -> None:
    """Post what the child's waivers take off now: of the prepaid charge, or of the service
    due once the term is settled."""
    lock_term(term.pk)
    enrolments = list(term_enrolments(term, [student]))
    fees = TermFees.of(term, fee_standards_of(term))
    waivers = list(Waiver.objects.filter(term=term, student=student)
                   .select_related("revocation"))
    base = waiver_bases(term, fees, waivers, enrolments,
                        settled=Settlement.objects.filter(term=term).exists())
    waivers_sync(term=term, waivers=waivers, base=base, posted=posted_waivers(waivers),
                 user=user)


def _waiver_value(kind: str, value) -> Decimal:
    if kind not in Waiver.Kind.values:
        raise PolicyViolation(_("未知的减免方式。"), field="kind")
    if kind == Waiver.Kind.FULL:
        return Decimal("100.00")
    try:
        value = Decimal(value)
    except (TypeError, ArithmeticError) as exc:
        raise PolicyViolation(_("请填写减免比例或金额。"), field="value") from exc
    if value != value.quantize(ledger.CENT):
        raise PolicyViolation(_("减免比例或金额最多两位小数。"), field="value")
    if kind == Waiver.Kind.PERCENT and not Decimal(0) < value <= 100:
        raise PolicyViolation(_("减免比例须大于 0、不超过 100。"), field="value")
    if kind == Waiver.Kind.AMOUNT and not Decimal(0) < value <= MAX_PAYMENT:
        raise PolicyViolation(_("减免金额须大于 0、不超过 %(max)s 元。") % {"max": MAX_PAYMENT},
                              field="value")
    return value


@transaction.atomic
def waiver_grant(*, user: User, student: Student, term: Term, kind: str, value, reason: str,
                 borne_by: str, evidence: str = "", valid_from: datetime.date | None = None
                 ) -> Waiver:
    """Grant a waiver to a certified economically difficult student (R11) and post what it
    takes off the family's charge. The certification is the evidence given, or else the
    family-difficulty evidence the homeroom teacher verified on the child's application."""
    value = _waiver_value(kind, value)
    reason, evidence = reason.strip(), evidence.strip()
    if not reason:
        raise PolicyViolation(_("请填写减免理由。"), field="reason")
    if borne_by not in Waiver.BorneBy.values:
        raise PolicyViolation(_("请选择减免经费由谁承担。"), field="borne_by")
    if term.school_id != student.school_id or not term_enrolments(term, [student]).exists():
        raise PolicyViolation(_("这名学生本学期没有参加课后服务。"), field="student")
    valid_from = valid_from or term.start
    if not term.start <= valid_from <= term.end:
        raise PolicyViolation(_("生效日期须在学期之内。"), field="valid_from")
    if not evidence:
        certified = low_income_certified(student, term)
        if certified is None:
            raise PolicyViolation(_("请填写认定依据（如低保证号），或先核验报名时提交的家庭经济困难"
                                    "证明材料。"), field="evidence")
        evidence = _("报名材料：家庭经济困难证明（已核验，材料 #%(id)s）") % {"id": certified.pk}
    Student.objects.select_for_update().filter(pk=student.pk).first()
    standing = Waiver.objects.filter(term=term, student=student, revocation__isnull=True)
    if standing.exists():
        raise Conflict(_("这名学生本学期已有减免，请先撤销原减免。"), code="waiver_exists")
    ended = (WaiverRevocation.objects.filter(waiver__term=term, waiver__student=student)
             .order_by("-effective_from").first())
    if ended is not None and valid_from < ended.effective_from:
        raise PolicyViolation(_("生效日期不能早于上一项减免的撤销日期（%(date)s）。")
                              % {"date": ended.effective_from}, field="valid_from")
    waiver = Waiver.objects.create(
        school_id=term.school_id, term=term, student=student, kind=kind, value=value,
        reason=reason[:200], evidence=evidence[:200], borne_by=borne_by, valid_from=valid_from,
        granted_by=user)
    _sync_waivers(term, student, user)
    audit_record(actor=user, action=BillingAction.WAIVER_GRANTED, obj=waiver,
                 school=term.school_id, data={"student": student.pk, "kind": kind,
                                              "value": str(value), "borne_by": borne_by,
                                              "valid_from": valid_from.isoformat(),
                                              "reason": reason})
    return waiver


@transaction.atomic
def waiver_revoke(*, waiver: Waiver, user: User, reason: str,
                  effective_from: datetime.date | None = None) -> Waiver:
    """End a waiver: days from `effective_from` (today by default) are charged again, and the
    difference is posted. The waiver itself stays as granted."""
    reason = reason.strip()
    if not reason:
        raise PolicyViolation(_("请填写撤销理由。"), field="reason")
    waiver = Waiver.objects.select_for_update().select_related("term", "student").get(
        pk=waiver.pk)
    if WaiverRevocation.objects.filter(waiver=waiver).exists():
        raise Conflict(_("这项减免已经撤销。"), code="already_revoked")
    effective_from = max(effective_from or timezone.localdate(), waiver.valid_from)
    WaiverRevocation.objects.create(waiver=waiver, effective_from=effective_from,
                                    reason=reason[:200], revoked_by=user)
    _sync_waivers(waiver.term, waiver.student, user)
    audit_record(actor=user, action=BillingAction.WAIVER_REVOKED, obj=waiver,
                 school=waiver.school_id, data={"effective_from": effective_from.isoformat(),
                                                "reason": reason})
    return Waiver.objects.select_related("revocation").get(pk=waiver.pk)


# --- Spending (R11 专款专用) -------------------------------------------------------------------

def expense_json(e: Expense) -> dict:
    return {"id": e.pk, "school": e.school_id, "category": e.category,
            "amount": str(e.amount), "payee": e.payee, "description": e.description,
            "document": e.document, "paid_on": e.paid_on.isoformat(), "entry": e.entry.label}


def bank_balance(school_id: int) -> Decimal:
    row = JournalLine.objects.filter(entry__school_id=school_id, account=Account.BANK).aggregate(
        d=Sum("debit"), c=Sum("credit"))
    return (row["d"] or Decimal("0.00")) - (row["c"] or Decimal("0.00"))


@transaction.atomic
def expense_record(*, user: User, key: str, school_id: int, category: str, amount: Decimal,
                   payee: str, description: str, document: str, paid_on: datetime.date
                   ) -> Reply:
    """Spend from the dedicated account (R11), by category, never more than it holds; the
    same key again answers the same."""
    payee, description, document = payee.strip(), description.strip(), document.strip()
    body = {"school": school_id, "category": category, "amount": str(amount), "payee": payee,
            "description": description, "document": document,
            "paid_on": paid_on.isoformat()}
    if (replay := _claim(user, key, body, "expense")):
        return replay
    if category not in SPENDING:
        raise PolicyViolation(_("请选择支出类别。"), field="category")
    if not Decimal("0") < amount <= Decimal("10000000.00") or amount != amount.quantize(
            ledger.CENT):
        raise PolicyViolation(_("金额须大于 0，精确到分。"), field="amount")
    for field, value, label in (("payee", payee, _("收款单位")), ("description", description,
                                                               _("用途")),
                                ("document", document, _("票据或合同号"))):
        if not value:
            raise PolicyViolation(_("请填写%(what)s。") % {"what": label}, field=field)
    if paid_on > timezone.localdate():
        raise PolicyViolation(_("支付日期不能晚于今天。"), field="paid_on")
    # Take the school's journal numbers first: two payments out at once then take turns, so
    # neither spends what the other already has.
    ledger.next_number(school_id, NumberSeries.Series.JOURNAL, timezone.localdate().year, 0)
    held = bank_balance(school_id)
    if amount > held:
        raise PolicyViolation(_("课后服务专户余额不足（%(held)s 元）。") % {"held": f"{held:.2f}"},
                              field="amount")
    entry = ledger.post(
        school=school_id, user=user, kind=JournalEntry.Kind.EXPENSE,
        source=f"expense:{school_id}:{user.pk}:{key}"[:100],
        memo=_("%(category)s：%(payee)s %(what)s") % {
            "category": Account(category).label, "payee": payee, "what": description},
        lines=[ledger.debit(category, amount), ledger.credit(Account.BANK, amount)])
    expense = Expense.objects.create(
        school_id=school_id, category=category, amount=amount, payee=payee[:100],
        description=description[:200], document=document[:100], paid_on=paid_on, entry=entry,
        recorded_by=user)
    audit_record(actor=user, action=BillingAction.EXPENSE_RECORDED, obj=expense,
                 school=school_id, data={"category": category, "amount": str(amount),
                                         "payee": payee, "document": document})
    return _remember(user, key, Reply(201, expense_json(expense)))


# --- Government money (R11) ------------------------------------------------------------------

def subsidy_json(s: Subsidy) -> dict:
    return {"id": s.pk, "school": s.school_id, "term": s.term_id, "kind": s.kind,
            "amount": str(s.amount), "source_document": s.source_document, "basis": s.basis,
            "received_on": s.received_on.isoformat(), "entry": s.entry.label}


@transaction.atomic
def subsidy_record(*, user: User, key: str, school_id: int, kind: str, amount: Decimal,
                   source_document: str, received_on: datetime.date, term: Term | None = None,
                   basis: str = "") -> Reply:
    """Record government money received in the dedicated account: a subsidy as income, or the
    bureau's payment of the waivers it bears (settling its receivable). Idempotent by key."""
    source_document, basis = source_document.strip(), basis.strip()
    body = {"school": school_id, "kind": kind, "amount": str(amount),
            "term": getattr(term, "pk", None), "source_document": source_document,
            "received_on": received_on.isoformat(), "basis": basis}
    if (replay := _claim(user, key, body, "subsidy")):
        return replay
    if kind not in Subsidy.Kind.values:
        raise PolicyViolation(_("未知的拨款类型。"), field="kind")
    if not Decimal("0") < amount <= Decimal("100000000.00") or amount != amount.quantize(
            ledger.CENT):
        raise PolicyViolation(_("金额须大于 0，精确到分。"), field="amount")
    if not source_document:
        raise PolicyViolation(_("请填写拨款文件（文号）。"), field="source_document")
    if received_on > timezone.localdate():
        raise PolicyViolation(_("到账日期不能晚于今天。"), field="received_on")
    if term is not None and term.school_id != school_id:
        raise PolicyViolation(_("学期不属于这所学校。"), field="term")
    if kind == Subsidy.Kind.WAIVER_REFUND:
        owed = JournalLine.objects.filter(entry__school_id=school_id,
                                          account=Account.BUREAU).aggregate(
            d=Sum("debit"), c=Sum("credit"))
        outstanding = (owed["d"] or 0) - (owed["c"] or 0)
        if amount > outstanding:
            raise PolicyViolation(_("超过应收财政局的减免款（%(owed)s 元）。")
                                  % {"owed": f"{outstanding:.2f}"}, field="amount")
    other = Account.BUREAU if kind == Subsidy.Kind.WAIVER_REFUND else Account.SUBSIDY_INCOME
    entry = ledger.post(
        school=school_id, user=user, kind=JournalEntry.Kind.SUBSIDY, term=term,
        source=f"subsidy:{school_id}:{key}"[:100], date=timezone.localdate(),
        memo=_("%(kind)s：%(doc)s") % {"kind": Subsidy.Kind(kind).label, "doc": source_document},
        lines=[ledger.debit(Account.BANK, amount), ledger.credit(other, amount)])
    subsidy = Subsidy.objects.create(
        school_id=school_id, term=term, kind=kind, amount=amount,
        source_document=source_document[:200], basis=basis[:200], received_on=received_on,
        entry=entry, recorded_by=user)
    audit_record(actor=user, action=BillingAction.SUBSIDY_RECORDED, obj=subsidy,
                 school=school_id, data={"kind": kind, "amount": str(amount),
                                         "source_document": source_document})
    return _remember(user, key, Reply(201, subsidy_json(subsidy)))
