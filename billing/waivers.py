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

from django.utils.translation import gettext as _

from . import ledger
from .charges import Day, total
from .models import Account, JournalEntry, Waiver, WaiverPosting

HUNDRED = Decimal(100)


def covered(waiver: Waiver, days: list[Day]) -> list[Day]:
    """The days the waiver applies to: from its start until its revocation takes effect."""
    revoked = waiver.revocation if _has_revocation(waiver) else None
    until = revoked.effective_from if revoked is not None else None
    return [d for d in days if d.date >= waiver.valid_from and (until is None or d.date < until)]


def _has_revocation(waiver: Waiver) -> bool:
    try:
        return waiver.revocation is not None
    except Waiver.revocation.RelatedObjectDoesNotExist:
        return False


def waived(waiver: Waiver, days: list[Day]) -> Decimal:
    """What the waiver takes off the charge for `days` (the student's charged days)."""
    base = total(covered(waiver, days))
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


def waivers_sync(*, term, waivers: list[Waiver], days_of_student: dict[int, list[Day]],
                 posted: dict[int, tuple[Decimal, int]], user, date: datetime.date | None = None
                 ) -> list[WaiverPosting]:
    """Post, for each waiver, the difference between what it waives now (on the student's
    `days_of_student`) and what is posted for it (`posted`: waiver id → (total, postings))."""
    due = []
    for waiver in waivers:
        amount = waived(waiver, days_of_student.get(waiver.student_id, []))
        already, count = posted.get(waiver.pk, (Decimal("0.00"), 0))
        if amount != already:
            due.append((waiver, amount - already, count))
    entries = ledger.post_many(school=term.school_id, user=user, date=date,
                               postings=[_posting(w, d, c, term.name) for w, d, c in due])
    return WaiverPosting.objects.bulk_create([
        WaiverPosting(waiver=w, amount=d, entry=e)
        for (w, d, _c), e in zip(due, entries, strict=True)])
