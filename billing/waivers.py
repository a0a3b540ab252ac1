"""Fee waivers (R11 对家庭经济困难学生减免): what a waiver takes off a family's charge, and its
posting.

A waiver applies to the charged days from its start until its revocation takes effect: all of
them (full), a percentage of their cost, or an amount (never more than their cost). Like a
charge, it is posted as the difference from what is already posted for it, so granting,
revoking and settling each post only what changed, and the family's part and the waiver always
add up to the charge exactly (the waiver is rounded once; the family pays the rest).

Before the term is settled a waiver applies to the prepaid charge; once settled, to the service
actually due. The school's fund bears it as fee income forgone (from prepaid fees); the finance
bureau's share becomes a receivable from the bureau."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from . import ledger
from .charges import Summary, TermFees, summary_of
from .models import Account, JournalEntry, Waiver, WaiverPosting

HUNDRED = Decimal(100)
ONE_DAY = datetime.timedelta(days=1)


def _revocation(waiver: Waiver):
    try:
        return waiver.revocation
    except Waiver.revocation.RelatedObjectDoesNotExist:
        return None


def waiver_base(waiver: Waiver, fees: TermFees, enrolments: list, skipped=None) -> Decimal:
    """What the days the waiver applies to cost (from its start until its revocation takes
    effect, over the child's enrolments), rounded once: of the prepaid charge, or of the
    service due when `skipped` (the child's days not charged) is given."""
    revocation = _revocation(waiver)
    until = revocation.effective_from - ONE_DAY if revocation is not None else None
    summary = Summary()
    for e in enrolments:
        start = max(e.start_date, waiver.valid_from)
        end = min(e.end_date or fees.term.end, until or fees.term.end)
        summary.add(summary_of(fees, list(e.slots.all()), start, end, skipped))
    return summary.rounded


def waived(waiver: Waiver, base: Decimal) -> Decimal:
    """What the waiver takes off a charge of `base` for the days it applies to."""
    if waiver.kind == Waiver.Kind.FULL:
        return base
    if waiver.kind == Waiver.Kind.PERCENT:
        return (base * waiver.value / HUNDRED).quantize(ledger.CENT, rounding=ROUND_HALF_UP)
    return min(waiver.value, base)


def _posting(waiver: Waiver, difference: Decimal, count: int, term_name: str
             ) -> ledger.Posting:
    bearer = Account.BUREAU if waiver.borne_by == Waiver.BorneBy.BUREAU else Account.PREPAID
    student = waiver.student_id
    lines = ([ledger.debit(bearer, difference), ledger.credit(Account.FAMILIES, difference,
                                                               student)]
             if difference > 0 else
             [ledger.debit(Account.FAMILIES, -difference, student),
              ledger.credit(bearer, -difference)])
    memo = _("%(term)s 课后服务费减免（%(bearer)s）") % {
        "term": term_name, "bearer": Waiver.BorneBy(waiver.borne_by).label}
    return ledger.Posting(kind=JournalEntry.Kind.WAIVER, memo=memo, lines=lines,
                          term=waiver.term_id, source=f"waiver:{waiver.pk}:{count + 1}")


def waivers_sync(*, term, waivers: list[Waiver], base: dict[int, Decimal],
                 posted: dict[int, tuple[Decimal, int]], user, date: datetime.date | None = None
                 ) -> list[WaiverPosting]:
    """Post, for each waiver, the difference between what it waives now (of `base`: waiver id
    → the cost of its days) and what is posted for it (`posted`: waiver id → (total,
    postings))."""
    due = []
    for waiver in waivers:
        amount = waived(waiver, base[waiver.pk])
        already, count = posted.get(waiver.pk, (Decimal("0.00"), 0))
        if amount != already:
            due.append((waiver, amount - already, count))
    entries = ledger.post_many(school=term.school_id, user=user, date=date,
                               postings=[_posting(w, d, c, term.name) for w, d, c in due])
    return WaiverPosting.objects.bulk_create([
        WaiverPosting(waiver=w, amount=d, entry=e)
        for (w, d, _c), e in zip(due, entries, strict=True)])


def posted_waivers(waivers: list[Waiver]) -> dict[int, tuple[Decimal, int]]:
    """Each waiver's posted total and number of postings (one query)."""
    return {row["waiver_id"]: (row["total"], row["n"]) for row in
            WaiverPosting.objects.filter(waiver__in=waivers).values("waiver_id")
            .annotate(total=Sum("amount"), n=Count("pk"))}
