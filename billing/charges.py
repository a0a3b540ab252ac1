"""The term charge (R11 预收): what an enrolment owes for its term, from the service days of its
slots from its start date, × each slot's class-hours × the fee standard in force that day.

A mid-term join is charged from its start date. Per-term standards are prorated by class-hours:
the share of the term's class-hours (of the enrolment's slots) still to come from its start.
The charge is posted as the difference from what is already posted for the enrolment, so a
new fee version, or running it again, posts only what changed (nothing the second time)."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Sum, prefetch_related_objects
from django.utils.translation import gettext as _

from enrollment.selectors import FeeMode as Mode
from enrollment.selectors import fee_standard_on, fee_standards_of
from schools.models import ServiceSlot, Term, User
from schools.selectors import slot_dates

from . import ledger
from .models import Account, Charge, JournalEntry

# pg_advisory_xact_lock's first key for an enrolment's charge: two postings for the same
# enrolment (an approval and a fee version at once) take turns.
CHARGE_LOCK = 7301


@dataclass
class TermFees:
    """What every charge of a term reads once: its standards and each slot's dates."""

    term: Term
    standards: list
    dates: dict[int, list[datetime.date]]

    @classmethod
    def of(cls, term: Term, standards: list) -> "TermFees":
        return cls(term, standards, slot_dates(term))


@dataclass(frozen=True)
class Computed:
    amount: Decimal
    basis: dict


def compute(fees: TermFees, slots: list[ServiceSlot], start: datetime.date,
            end: datetime.date | None) -> Computed:
    """The charge for slots from `start` to `end` (the term's end when None). Each day is
    charged at the standard in force on that day; the sum is rounded once, half up, to the
    fen."""
    end = min(end or fees.term.end, fees.term.end)
    total = Decimal(0)
    hours = Decimal(0)
    days = 0
    rates: dict[str, Decimal] = {}
    # A per-term rate is spread over the term's class-hours of these slots.
    term_hours = sum((s.class_hours * len(fees.dates.get(s.pk, [])) for s in slots), Decimal(0))
    for slot in slots:
        for day in fees.dates.get(slot.pk, []):
            if not start <= day <= end:
                continue
            standard = fee_standard_on(fees.standards, day)
            if standard is None or standard.mode == Mode.FREE:
                continue
            days += 1
            hours += slot.class_hours
            if standard.mode == Mode.PER_HOUR:
                total += slot.class_hours * standard.rate
            elif term_hours:
                total += slot.class_hours * standard.rate / term_hours
            rates[f"v{standard.version}"] = standard.rate
    amount = total.quantize(ledger.CENT, rounding=ROUND_HALF_UP)
    return Computed(amount, {"start": start.isoformat(), "end": end.isoformat(),
                             "slot_days": days, "class_hours": str(hours),
                             "rates": {k: str(v) for k, v in rates.items()}})


def _posted(enrolment_ids: list[int]) -> dict[int, tuple[Decimal, int]]:
    """Each enrolment's posted total and number of postings (one query)."""
    return {row["enrolment_id"]: (row["total"], row["n"]) for row in
            Charge.objects.filter(enrolment_id__in=enrolment_ids).values("enrolment_id")
            .annotate(total=Sum("amount"), n=Count("pk"))}


def _lock(enrolment_ids: list[int]) -> None:
    """Take each enrolment's charge lock, in id order (two batches never wait on each other in
    a circle): an approval and a fee version posting at once take turns."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, id) FROM unnest(%s::int[]) AS id",
                       [CHARGE_LOCK, sorted(enrolment_ids)])


def _posting(fees: TermFees, enrolment, difference: Decimal, count: int) -> ledger.Posting:
    student = enrolment.student_id
    lines = ([ledger.debit(Account.FAMILIES, difference, student),
              ledger.credit(Account.PREPAID, difference)] if difference > 0 else
             [ledger.debit(Account.PREPAID, -difference),
              ledger.credit(Account.FAMILIES, -difference, student)])
    memo = (_("%(term)s 课后服务费（预收）") if count == 0
            else _("%(term)s 课后服务费（收费标准调整）")) % {"term": fees.term.name}
    return ledger.Posting(kind=JournalEntry.Kind.CHARGE, memo=memo, lines=lines, term=fees.term,
                          source=f"charge:{enrolment.pk}:{count + 1}")


def _sync_term(fees: TermFees, enrolments: list, user: User | None) -> list[Charge]:
    """Post, for each enrolment of one term, the difference between its prepaid charge and
    what is posted for it; a constant number of queries for the batch."""
    prefetch_related_objects(enrolments, "slots")
    ids = [e.pk for e in enrolments]
    _lock(ids)
    posted = _posted(ids)
    due = []
    for enrolment in enrolments:
        computed = compute(fees, list(enrolment.slots.all()), enrolment.start_date,
                           enrolment.end_date)
        total, count = posted.get(enrolment.pk, (Decimal("0.00"), 0))
        if computed.amount != total:
            due.append((enrolment, computed, computed.amount - total, count))
    entries = ledger.post_many(
        school=fees.term.school_id, user=user,
        postings=[_posting(fees, e, difference, count) for e, _c, difference, count in due])
    return Charge.objects.bulk_create([
        Charge(enrolment=e, student_id=e.student_id, term_id=fees.term.pk,
               kind=Charge.Kind.PREPAY if count == 0 else Charge.Kind.ADJUST,
               amount=difference, basis=computed.basis, entry=entry)
        for (e, computed, difference, count), entry in zip(due, entries, strict=True)])


def charges_sync(*, enrolments, user: User | None) -> list[Charge]:
    """Charge enrolments (R11), each posted as the difference from what is already posted for
    it: nothing for a term without a published standard, or for an enrolment whose charge has
    not changed. Runs inside the caller's transaction; a constant number of queries per term."""
    by_term: dict[int, list] = {}
    for enrolment in enrolments:
        by_term.setdefault(enrolment.term_id, []).append(enrolment)
    charges = []
    for term_id, group in by_term.items():
        standards = fee_standards_of(term_id)
        if standards:  # R11: no charge before a standard is published
            charges += _sync_term(TermFees.of(group[0].term, standards), group, user)
    return charges
