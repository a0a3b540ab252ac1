"""Teacher pay (R12): a school's monthly payroll from the sessions actually served.

Each session that took place (a roll was called) is paid to the teacher who served it, a
substitute to the substitute, at its slot's class-hours (noon 2, afternoon 1) × the rate in
force on its date: the latest `PayRate` version from on or before that day, else the setting
`BILLING_DEFAULT_PAY_RATE` (R12's 60 元). A staff member's sessions of a month at one rate are
one line, rounded half up to the fen once.

The principal drafts the month (and may recompute the draft as often as needed), then publishes
it to the staff (R9's monthly publication): that posts the accrual, debit staff pay (own
teachers) and external teachers (provider staff), credit pay payable. Finance pays it once:
debit pay payable, credit the bank. A published payroll is never rewritten (migration 0007):
a session recorded, or a substitute named, after its month was published is found when a later
month is drafted, which recomputes the published months of the year before it and carries the
difference as correction lines of the month they belong to.

Every write here takes the school's payroll lock first: a draft reads what other months
published, and two drafts of one month at once would both create it."""

import bisect
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from attendance.selectors import Served, sessions_served
from notifications.services import notify_many
from schools.audit import audit_record
from schools.errors import Conflict, PolicyViolation
from schools.models import Role, School, Staff, User

from . import ledger
from .events import BillingAction
from .models import Account, JournalEntry, PayRate, Payroll, PayrollLine

# R12: 60 元 per person per class-hour, where a school has set no rate of its own.
DEFAULT_PAY_RATE = Decimal("60.00")
# A rate above this is a typing mistake (R12's example is 60).
MAX_PAY_RATE = Decimal("1000.00")
# How far back a draft looks for sessions recorded after their month was published.
CORRECTION_MONTHS = 12
# pg_advisory_xact_lock's first key for a school's payroll writes.
PAYROLL_LOCK = 7312
# Who reads a school's payroll and rates; who drafts and publishes; who pays.
READERS = {Role.PRINCIPAL, Role.FINANCE}
DRAFTERS = {Role.PRINCIPAL}
PAYERS = {Role.FINANCE}

Status = Payroll.Status


# --- Months ---------------------------------------------------------------------------------

def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, n: int) -> datetime.date:
    years, index = divmod(month.month - 1 + n, 12)
    return datetime.date(month.year + years, index + 1, 1)


def month_end(month: datetime.date) -> datetime.date:
    return add_months(month, 1) - datetime.timedelta(days=1)


def month_name(month: datetime.date) -> str:
    """The month as people read it, in the active language (2026年3月 / March 2026)."""
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


# --- Who acts on which school's pay ---------------------------------------------------------

def payroll_of(school: School, month: datetime.date) -> Payroll:
    return get_object_or_404(Payroll, school=school, month=month_start(month))


def payroll_lines(payroll: Payroll) -> QuerySet[PayrollLine]:
    """The payroll's lines in reading order: the month's own first, then corrections by the
    month they belong to; providers' staff after the school's own."""
    return (payroll.lines.select_related("staff")
            .order_by("-for_month", "provider_name", "staff__name", "staff_id", "rate"))


def pay_rates_of(school: School) -> QuerySet[PayRate]:
    return PayRate.objects.filter(school=school).select_related("set_by").order_by(
        "effective_from")


def default_pay_rate() -> Decimal:
    return ledger.fen(getattr(settings, "BILLING_DEFAULT_PAY_RATE", DEFAULT_PAY_RATE))


@dataclass(frozen=True)
class Rates:
    """A school's rate versions, to price any day without a query."""

    starts: list[datetime.date]
    rates: list[Decimal]
    default: Decimal

    @classmethod
    def of(cls, school_id: int) -> "Rates":
        versions = list(PayRate.objects.filter(school_id=school_id).order_by("effective_from")
                        .values_list("effective_from", "rate"))
        return cls([d for d, _r in versions], [r for _d, r in versions], default_pay_rate())

    def on(self, day: datetime.date) -> Decimal:
        i = bisect.bisect_right(self.starts, day)
        return self.rates[i - 1] if i else self.default


def rate_in_force(school: School, day: datetime.date) -> Decimal:
    return Rates.of(school.pk).on(day)


# --- The computation ------------------------------------------------------------------------

@dataclass
class Figures:
    """What one staff member served in one month at one rate, or the sum of such lines."""

    staff_id: int
    provider_name: str
    rate: Decimal
    for_month: datetime.date
    sessions: int = 0
    substitute_sessions: int = 0
    class_hours: Decimal = field(default_factory=Decimal)
    amount: Decimal | None = None

    def priced(self) -> Decimal:
        """Rounded once, half up, for the whole line (R12's rate × the class-hours)."""
        if self.amount is not None:
            return self.amount
        return (self.class_hours * self.rate).quantize(ledger.CENT, rounding=ROUND_HALF_UP)


def compute(served: list[Served], rates: Rates) -> dict[tuple, Figures]:
    """Each (month, staff member, rate) with its sessions, substitutions and class-hours."""
    lines: dict[tuple, Figures] = {}
    for s in served:
        rate = rates.on(s.date)
        month = month_start(s.date)
        line = lines.get((month, s.teacher_id, rate))
        if line is None:
            provider = s.provider_name if s.staff_kind == Staff.Kind.PROVIDER else ""
            line = lines[(month, s.teacher_id, rate)] = Figures(s.teacher_id, provider, rate,
                                                                month)
        line.sessions += 1
        line.substitute_sessions += 1 if s.substitute else 0
        line.class_hours += s.class_hours
    return lines


def _published(school_id: int, months: set[datetime.date]) -> dict[tuple, Figures]:
    """What the published payrolls of the school already paid for each of `months`, per
    staff member and rate, corrections included (one query)."""
    rows = (PayrollLine.objects.filter(payroll__school_id=school_id,
                                       payroll__status=Status.PUBLISHED, for_month__in=months)
            .values("for_month", "staff_id", "rate")
            .annotate(n=Sum("sessions"), subs=Sum("substitute_sessions"),
                      hours=Sum("class_hours"), paid=Sum("amount"),
                      provider=Max("provider_name")))
    return {(r["for_month"], r["staff_id"], r["rate"]): Figures(
        r["staff_id"], r["provider"], r["rate"], r["for_month"], r["n"], r["subs"], r["hours"],
        r["paid"]) for r in rows}


def _line(figures: Figures, note: str = "") -> PayrollLine:
    return PayrollLine(staff_id=figures.staff_id, provider_name=figures.provider_name,
                       sessions=figures.sessions, substitute_sessions=figures.substitute_sessions,
                       class_hours=figures.class_hours, rate=figures.rate,
                       amount=figures.priced(), for_month=figures.for_month, note=note[:200])


def lines_for(school_id: int, month: datetime.date, today: datetime.date) -> list[PayrollLine]:
    """The lines a payroll of `month` has now (unsaved): the month's service up to today, and
    for each published month of the year before, the difference between what it would be now
    and what was published for it. Four queries at most."""
    published = set(Payroll.objects.filter(
        school_id=school_id, status=Status.PUBLISHED,
        month__range=(add_months(month, -CORRECTION_MONTHS), add_months(month, -1)))
        .values_list("month", flat=True))
    start = min(published | {month})
    served = sessions_served(school_id, start, min(month_end(month), today))
    computed = compute(served, Rates.of(school_id))
    lines = [_line(f) for f in computed.values() if f.for_month == month]
    if not published:
        return lines
    paid = _published(school_id, published)
    for key in sorted(set(paid) | {k for k in computed if k[0] in published}):
        now, was = computed.get(key), paid.get(key)
        base = now or was
        difference = Figures(
            base.staff_id, base.provider_name, base.rate, base.for_month,
            (now.sessions if now else 0) - (was.sessions if was else 0),
            (now.substitute_sessions if now else 0) - (was.substitute_sessions if was else 0),
            (now.class_hours if now else Decimal(0)) - (was.class_hours if was else Decimal(0)),
            (now.priced() if now else ledger.ZERO) - (was.priced() if was else ledger.ZERO))
        if difference.sessions or difference.class_hours or difference.amount:
            lines.append(_line(difference, _(
                "更正%(month)s：该月劳务费公布后补录或变更的课次") % {
                    "month": month_name(base.for_month)}))
    return lines


def _figures(lines) -> list[tuple]:
    """What a payroll says, to compare a stored draft with a fresh computation."""
    return sorted((line.for_month, line.staff_id, line.rate, line.sessions,
                   line.substitute_sessions, line.class_hours, line.amount) for line in lines)


def _lock(school_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PAYROLL_LOCK, school_id])


def _published_already(month: datetime.date) -> Conflict:
    return Conflict(_("%(month)s的劳务费已经公布，不再改动；之后发现的差错记入以后月份的劳务费。")
                    % {"month": month_name(month)}, code="payroll_published")


# --- Writes ---------------------------------------------------------------------------------

@transaction.atomic
def payroll_draft(*, school: School, month: datetime.date, user: User) -> Payroll:
    """Draft (or recompute) the month's payroll from the sessions served so far, with the
    corrections of earlier published months. A draft's lines are replaced; a published month
    is refused (R12: corrections go into a later month)."""
    month, today = month_start(month), timezone.localdate()
    if month > month_start(today):
        raise Conflict(_("%(month)s还没有开始，不能编制劳务费。") % {"month": month_name(month)},
                       code="month_not_started")
    _lock(school.pk)
    payroll = Payroll.objects.filter(school=school, month=month).first()
    if payroll is not None and payroll.status == Status.PUBLISHED:
        raise _published_already(month)
    lines = lines_for(school.pk, month, today)
    total = sum((line.amount for line in lines), ledger.ZERO)
    now = timezone.now()
    if payroll is None:
        payroll = Payroll.objects.create(school=school, month=month, total=total,
                                         drafted_by=user, drafted_at=now)
    else:
        payroll.lines.all().delete()
        payroll.total, payroll.drafted_by, payroll.drafted_at = total, user, now
        payroll.save(update_fields=["total", "drafted_by", "drafted_at"])
    for line in lines:
        line.payroll = payroll
    PayrollLine.objects.bulk_create(lines)
    audit_record(actor=user, action=BillingAction.PAYROLL_DRAFTED, obj=payroll, school=school,
                 data={"month": payroll.label, "total": str(total), "lines": len(lines),
                       "corrections": sum(1 for line in lines if line.for_month != month)})
    return payroll


def _accrual(own: Decimal, external: Decimal) -> list[ledger.Line]:
    """Own teachers' pay on staff pay, providers' staff on external teachers, both owed to the
    staff. A month of corrections only may take pay back: then the sides turn."""
    lines = []
    for account, amount in ((Account.STAFF_PAY, own), (Account.EXTERNAL_TEACHERS, external)):
        if amount > 0:
            lines.append(ledger.debit(account, amount))
        elif amount < 0:
            lines.append(ledger.credit(account, -amount))
    total = own + external
    if total > 0:
        lines.append(ledger.credit(Account.PAY_PAYABLE, total))
    elif total < 0:
        lines.append(ledger.debit(Account.PAY_PAYABLE, -total))
    return lines


@transaction.atomic
def payroll_publish(*, user: User, payroll: Payroll | None = None,
                    school: School | None = None, month: datetime.date | None = None
                    ) -> Payroll:
    """Publish a finished month's draft to the staff (R9, R12), exactly as drafted: the draft
    must still be what the sessions say (else 409 `payroll_outdated`: recompute it first).
    Posts the accrual (none for a month with nothing to pay) and tells each staff member with
    an account their pay. Once only."""
    school_id = payroll.school_id if payroll is not None else school.pk
    month = payroll.month if payroll is not None else month_start(month)
    today = timezone.localdate()
    _lock(school_id)
    payroll = Payroll.objects.filter(school_id=school_id, month=month).first()
    if payroll is None:
        raise Conflict(_("%(month)s还没有劳务费草稿，请先编制。") % {"month": month_name(month)},
                       code="payroll_not_drafted")
    if payroll.status == Status.PUBLISHED:
        raise _published_already(month)
    if month >= month_start(today):
        raise Conflict(_("这个月还没有结束，月底后再公布劳务费。"), code="month_not_ended")
    lines = list(payroll_lines(payroll))
    if _figures(lines) != _figures(lines_for(school_id, month, today)):
        raise Conflict(_("编制草稿后课次又有变动，请重新编制劳务费后再公布。"),
                       code="payroll_outdated")
    own = sum((line.amount for line in lines if not line.provider_name), ledger.ZERO)
    external = sum((line.amount for line in lines if line.provider_name), ledger.ZERO)
    entry = None
    if own or external:
        entry = ledger.post(
            school=school_id, kind=JournalEntry.Kind.PAYROLL, user=user,
            source=f"payroll:{school_id}:{payroll.label}",
            memo=_("计提%(month)s课后服务劳务费") % {"month": month_name(month)},
            lines=_accrual(own, external))
    payroll.status, payroll.entry = Status.PUBLISHED, entry
    payroll.published_by, payroll.published_at = user, timezone.now()
    payroll.save(update_fields=["status", "entry", "published_by", "published_at"])
    audit_record(actor=user, action=BillingAction.PAYROLL_PUBLISHED, obj=payroll,
                 school=school_id, data={"month": payroll.label, "total": str(payroll.total),
                                         "entry": entry.label if entry else None})
    _tell_staff(payroll, lines)
    return payroll


def _tell_staff(payroll: Payroll, lines: list[PayrollLine]) -> int:
    """Each staff member with an account is told their own lines, nobody else's."""
    mine: dict[int, list[PayrollLine]] = defaultdict(list)
    for line in lines:
        if line.staff.user_id is not None:
            mine[line.staff.user_id].append(line)
    month = month_name(payroll.month)
    items = []
    for user_id, theirs in mine.items():
        own = [line for line in theirs if line.for_month == payroll.month]
        corrections = sum((line.amount for line in theirs if line.for_month != payroll.month),
                          ledger.ZERO)
        amount = sum((line.amount for line in theirs), ledger.ZERO)
        body = _("您%(month)s服务 %(sessions)s 次、%(hours)s 课时（其中代课 %(subs)s 次），"
                 "本月劳务费合计 %(amount)s 元。") % {
            "month": month, "sessions": sum(line.sessions for line in own),
            "hours": sum((line.class_hours for line in own), Decimal(0)),
            "subs": sum(line.substitute_sessions for line in own), "amount": amount}
        if corrections:
            body += _("其中含以前月份的更正 %(amount)s 元。") % {"amount": corrections}
        body += _("如有出入，请联系学校课后服务办公室。")
        items.append({
            "recipient_id": user_id, "purpose": "billing.payroll_published",
            "dedupe_key": f"billing.payroll:{payroll.pk}:{user_id}", "school": payroll.school_id,
            "subject": _("%(month)s课后服务劳务费已公布") % {"month": month}, "body": body,
            "payload": {"payroll": payroll.pk, "month": payroll.label, "amount": str(amount)},
            "channels": ("in_app",)})
    return notify_many(items)


@transaction.atomic
def payroll_pay(*, payroll: Payroll, user: User, reference: str) -> Payroll:
    """Record that finance paid a published payroll (the bank's batch or transfer reference):
    debit pay payable, credit the bank. Once only."""
    reference = reference.strip()
    if not reference or len(reference) > 64:
        raise PolicyViolation(_("请填写付款凭据号（银行代发批次号或转账流水号，至多 64 个字符）。"),
                              field="reference")
    _lock(payroll.school_id)
    payroll = Payroll.objects.get(pk=payroll.pk)
    if payroll.status != Status.PUBLISHED:
        raise Conflict(_("劳务费公布后才能支付。"), code="payroll_not_published")
    if payroll.paid_entry_id is not None:
        raise Conflict(_("%(month)s的劳务费已经支付过了（%(ref)s）。") % {
            "month": month_name(payroll.month), "ref": payroll.paid_reference},
            code="payroll_paid")
    if payroll.total <= 0:
        raise Conflict(_("%(month)s的劳务费没有需要支付的金额。") % {
            "month": month_name(payroll.month)}, code="payroll_nothing_to_pay")
    entry = ledger.post(
        school=payroll.school_id, kind=JournalEntry.Kind.PAYROLL_PAID, user=user,
        source=f"payroll_paid:{payroll.school_id}:{payroll.label}",
        memo=_("支付%(month)s课后服务劳务费（%(ref)s）") % {
            "month": month_name(payroll.month), "ref": reference},
        lines=[ledger.debit(Account.PAY_PAYABLE, payroll.total),
               ledger.credit(Account.BANK, payroll.total)])
    payroll.paid_entry, payroll.paid_reference = entry, reference
    payroll.save(update_fields=["paid_entry", "paid_reference"])
    audit_record(actor=user, action=BillingAction.PAYROLL_PAID, obj=payroll,
                 school=payroll.school_id, data={"month": payroll.label,
                                                 "amount": str(payroll.total),
                                                 "reference": reference, "entry": entry.label})
    return payroll


@transaction.atomic
def pay_rate_set(*, school: School, rate: Decimal, effective_from: datetime.date,
                 user: User) -> PayRate:
    """A new rate per class-hour from a date on (R12: a setting with effective dates). Never
    from a past date, and only after the latest version: a day already served keeps the rate
    it was served at, so a published month is never repriced."""
    if (not isinstance(rate, Decimal) or not rate.is_finite()
            or not Decimal(0) < rate <= MAX_PAY_RATE or rate != rate.quantize(ledger.CENT)):
        raise PolicyViolation(_("课时费须大于 0、不超过 %(max)s 元，精确到分。")
                              % {"max": MAX_PAY_RATE}, field="rate")
    if effective_from < timezone.localdate():
        raise PolicyViolation(_("生效日期不能早于今天：已服务的课次按当时的标准计酬。"),
                              field="effective_from")
    _lock(school.pk)
    latest = PayRate.objects.filter(school=school).order_by("-effective_from").first()
    if latest is not None and effective_from <= latest.effective_from:
        raise PolicyViolation(_("生效日期须晚于现行最新标准的生效日期（%(date)s）。") % {
            "date": formats.date_format(latest.effective_from, "DATE_FORMAT")},
            field="effective_from")
    version = PayRate.objects.create(school=school, rate=rate, effective_from=effective_from,
                                     set_by=user)
    audit_record(actor=user, action=BillingAction.PAY_RATE_SET, obj=version, school=school,
                 data={"rate": str(rate), "effective_from": effective_from.isoformat(),
                       "previous": str(latest.rate) if latest else None})
    return version
