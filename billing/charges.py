"""The term charge (R11 预收): what an enrolment owes for its term, from the service days of its
slots from its start date, × each slot's class-hours × the fee standard in force that day.

A mid-term join is charged from its start date. Per-term standards are prorated by class-hours:
the share of the term's class-hours (of the enrolment's slots) still to come from its start.
The charge is posted as the difference from what is already posted for the enrolment, so a
new fee version, or running it again, posts only what changed (nothing the second time)."""

import datetime
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.db import connection
from django.db.models import Count, Sum, prefetch_related_objects
from django.utils.translation import gettext as _

from enrollment.selectors import FeeMode as Mode
from enrollment.selectors import fee_standards_of
from schools.models import ServiceSlot, Term, User
from schools.selectors import slot_dates

from . import ledger
from .models import Account, Charge, JournalEntry

# pg_advisory_xact_lock's first key for a term's charges: two postings for the same term (an
# approval and a fee version, a waiver, a settlement) take turns. One lock per term, not per
# enrolment: a city-sized term would otherwise fill the server's lock table.
CHARGE_LOCK = 7301


@dataclass
class TermFees:
    """What every charge of a term reads once: its standards, each slot's dates (sorted), and
    the stretch of days each standard version is in force."""

    term: Term
    standards: list
    dates: dict[int, list[datetime.date]]

    @classmethod
    def of(cls, term: Term, standards: list) -> "TermFees":
        return cls(term, standards, slot_dates(term))

    @cached_property
    def segments(self) -> list[tuple[object, datetime.date, datetime.date]]:
        """(standard, first day, last day) of each version, oldest first."""
        if not self.standards:
            return []
        ends = [s.effective_from - datetime.timedelta(days=1) for s in self.standards[1:]]
        return list(zip(self.standards, [s.effective_from for s in self.standards],
                        [*ends, datetime.date.max], strict=True))


@dataclass(frozen=True)
class Computed:
    amount: Decimal
    basis: dict


@dataclass
class Summary:
    """Charged slot-days and what they cost, exact (rounded once, when posted)."""

    amount: Decimal = Decimal(0)
    slot_days: int = 0
    class_hours: Decimal = Decimal(0)
    versions: set = field(default_factory=set)

    def add(self, other: "Summary") -> "Summary":
        self.amount += other.amount
        self.slot_days += other.slot_days
        self.class_hours += other.class_hours
        self.versions |= other.versions
        return self

    @property
    def rounded(self) -> Decimal:
        """Half up, to the fen."""
        return self.amount.quantize(ledger.CENT, rounding=ROUND_HALF_UP)


def skip_index(fees: TermFees, skip) -> dict[int, dict[int, list[datetime.date]]]:
    """(student, date, slot) triples not charged (leave, an absence not charged), as each
    child's sorted service dates per slot: a leave on a day the slot does not run (a holiday)
    is not a service day, so it is not taken off twice."""
    runs = {slot_id: set(dates) for slot_id, dates in fees.dates.items()}
    index: dict[int, dict[int, list[datetime.date]]] = {}
    for student, day, slot in skip:
        if day in runs.get(slot, ()):
            index.setdefault(student, {}).setdefault(slot, []).append(day)
    for slots in index.values():
        for days in slots.values():
            days.sort()
    return index


def summary_of(fees: TermFees, slots: list[ServiceSlot], start: datetime.date,
               end: datetime.date | None, skipped: dict[int, list[datetime.date]] | None = None
               ) -> Summary:
    """The charged slot-days of slots from `start` to `end` (the term's end when None), less
    the child's `skipped` service dates (from `skip_index`), each at the standard in force on
    it. Days with no standard, or a free one, cost nothing and are not counted. A per-term rate
    is spread over the term's class-hours of these slots, so the whole term costs exactly the
    rate. Counted by bisection over each slot's dates, never day by day."""
    end = min(end or fees.term.end, fees.term.end)
    out = Summary()
    if end < start:
        return out
    term_hours = sum((s.class_hours * len(fees.dates.get(s.pk, ())) for s in slots), Decimal(0))
    for slot in slots:
        dates = fees.dates.get(slot.pk, ())
        off = skipped.get(slot.pk, ()) if skipped else ()
        for standard, first, last in fees.segments:
            lo, hi = max(start, first), min(end, last)
            if lo > hi or standard.mode == Mode.FREE:
                continue
            n = bisect_right(dates, hi) - bisect_left(dates, lo)
            if off:
                n -= bisect_right(off, hi) - bisect_left(off, lo)
            if n <= 0:
                continue
            if standard.mode == Mode.PER_HOUR:
                out.amount += n * slot.class_hours * standard.rate
            elif term_hours:
                out.amount += n * slot.class_hours * standard.rate / term_hours
            else:
                continue
            out.slot_days += n
            out.class_hours += n * slot.class_hours
            out.versions.add(standard.version)
    return out


def basis_of(fees: TermFees, summary: Summary, start: datetime.date, end: datetime.date | None,
             **extra) -> dict:
    """What the statement shows of a computation: the dates, slot-days, class-hours, rates."""
    end = min(end or fees.term.end, fees.term.end)
    rates = {f"v{s.version}": str(s.rate) for s in fees.standards
             if s.version in summary.versions}
    return {"start": start.isoformat(), "end": end.isoformat(),
            "slot_days": summary.slot_days, "class_hours": str(summary.class_hours),
            "rates": rates, **extra}


def compute(fees: TermFees, slots: list[ServiceSlot], start: datetime.date,
            end: datetime.date | None) -> Computed:
    """The prepaid charge for slots from `start` to `end`: every service day of the term's
    calendar, each at the standard in force on that day."""
    summary = summary_of(fees, slots, start, end)
    return Computed(summary.rounded, basis_of(fees, summary, start, end))


def posted_charges(enrolment_ids: list[int]) -> dict[int, tuple[Decimal, int]]:
    """Each enrolment's posted total and number of postings (one query)."""
    return {row["enrolment_id"]: (row["total"], row["n"]) for row in
            Charge.objects.filter(enrolment_id__in=enrolment_ids).values("enrolment_id")
            .annotate(total=Sum("amount"), n=Count("pk"))}


def lock_term(term_id: int) -> None:
    """Take the term's charge lock until the transaction ends: whatever posts for the term's
    enrolments (charges, waivers, settlement) reads what is posted only after the one before
    it committed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CHARGE_LOCK, term_id])


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
    lock_term(fees.term.pk)
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
