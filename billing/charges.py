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


@dataclass(frozen=True)
class Day:
    """One slot-day of service and what it costs at the standard in force that day (exact,
    not yet rounded)."""

    date: datetime.date
    slot_id: int
    class_hours: Decimal
    amount: Decimal
    version: int


def days_of(fees: TermFees, slots: list[ServiceSlot], start: datetime.date,
            end: datetime.date | None, skip=frozenset(), student_id: int | None = None
            ) -> list[Day]:
    """The charged slot-days of slots from `start` to `end` (the term's end when None), less
    the (student, date, slot) triples in `skip` (leave, an absence not charged). A day with no
    standard, or a free one, costs nothing and is left out. A per-term rate is spread over the
    term's class-hours of these slots, so the whole term costs exactly the rate."""
    end = min(end or fees.term.end, fees.term.end)
    term_hours = sum((s.class_hours * len(fees.dates.get(s.pk, [])) for s in slots), Decimal(0))
    days = []
    for slot in slots:
        for day in fees.dates.get(slot.pk, []):
            if not start <= day <= end or (student_id, day, slot.pk) in skip:
                continue
            standard = fee_standard_on(fees.standards, day)
            if standard is None or standard.mode == Mode.FREE:
                continue
            if standard.mode == Mode.PER_HOUR:
                amount = slot.class_hours * standard.rate
            elif term_hours:
                amount = slot.class_hours * standard.rate / term_hours
            else:
                continue
            days.append(Day(day, slot.pk, slot.class_hours, amount, standard.version))
    return days


def total(days: list[Day]) -> Decimal:
    """The sum of days, rounded once, half up, to the fen."""
    return sum((d.amount for d in days), Decimal(0)).quantize(ledger.CENT,
                                                              rounding=ROUND_HALF_UP)


def basis_of(fees: TermFees, days: list[Day], start: datetime.date,
             end: datetime.date | None, **extra) -> dict:
    """What the statement shows of a computation: the dates, slot-days, class-hours, rates."""
    end = min(end or fees.term.end, fees.term.end)
    rates = {f"v{s.version}": str(s.rate) for s in fees.standards
             if any(d.version == s.version for d in days)}
    return {"start": start.isoformat(), "end": end.isoformat(), "slot_days": len(days),
            "class_hours": str(sum((d.class_hours for d in days), Decimal(0))),
            "rates": rates, **extra}


def compute(fees: TermFees, slots: list[ServiceSlot], start: datetime.date,
            end: datetime.date | None) -> Computed:
    """The prepaid charge for slots from `start` to `end`: every service day of the term's
    calendar, each at the standard in force on that day."""
    days = days_of(fees, slots, start, end)
    return Computed(total(days), basis_of(fees, days, start, end))


def posted_charges(enrolment_ids: list[int]) -> dict[int, tuple[Decimal, int]]:
    """Each enrolment's posted total and number of postings (one query)."""
    return {row["enrolment_id"]: (row["total"], row["n"]) for row in
            Charge.objects.filter(enrolment_id__in=enrolment_ids).values("enrolment_id")
            .annotate(total=Sum("amount"), n=Count("pk"))}


def lock_enrolments(enrolment_ids: list[int]) -> None:
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
    lock_enrolments(ids)
    posted = posted_charges(ids)
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
