"""The dedicated-account ledger: gap-free numbers, posting balanced entries, reversing them, and
the reports finance and the district read (trial balance, journal)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from schools.models import School, Student, Term, User

from .models import DEBIT_NORMAL, Account, JournalEntry, JournalLine, NumberSeries, Payment

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Where a payment lands, and a refund of it leaves from: cash and transfers in the dedicated
# bank account, WeChat Pay and Alipay in the clearing account until the platform settles.
LANDS_IN = {Payment.Method.BANK: Account.BANK, Payment.Method.CASH: Account.BANK,
            Payment.Method.WECHAT: Account.CLEARING, Payment.Method.ALIPAY: Account.CLEARING}


def fen(amount) -> Decimal:
    """An amount to the fen; a value with more places is refused, never rounded silently."""
    value = Decimal(amount)
    if value != value.quantize(CENT):
        raise ValueError(f"{amount} is not an amount in fen")
    return value.quantize(CENT)


def next_number(school_id: int, series: str, year: int, count: int = 1) -> int:
    """The first of the next `count` numbers of the school's series for the year, taken inside
    the caller's transaction: the series row stays locked until it commits, and a rollback
    returns the numbers, so numbers have no gaps."""
    table = NumberSeries._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (school_id, series, year, last) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT (school_id, series, year) DO UPDATE SET last = {table}.last + %s "
            "RETURNING last", [school_id, series, year, count, count])
        return cursor.fetchone()[0] - count + 1


@dataclass(frozen=True)
class Line:
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    student: Student | int | None = None


def debit(account: str, amount, student=None) -> Line:
    return Line(account, debit=fen(amount), student=student)


def credit(account: str, amount, student=None) -> Line:
    return Line(account, credit=fen(amount), student=student)


@dataclass(frozen=True)
class Posting:
    """An entry to post: what it records once (`source`), its memo and lines."""

    kind: str
    source: str
    memo: str
    lines: list[Line]
    term: Term | int | None = None
    reverses: JournalEntry | None = None


def post_many(*, school: School | int, postings: list[Posting], user: User | None,
              date: datetime.date | None = None) -> list[JournalEntry]:
    """Post entries of one school and date, numbered one after another in the school's journal
    series of the year: three statements whatever their number. Must run inside a transaction
    (the database checks each entry's balance at commit; a unique `source` refuses posting the
    same event twice)."""
    if not postings:
        return []
    school_id = getattr(school, "pk", school)
    now = timezone.now()
    date = date or timezone.localdate(now)
    first = next_number(school_id, NumberSeries.Series.JOURNAL, date.year, len(postings))
    entries = JournalEntry.objects.bulk_create([
        JournalEntry(school_id=school_id, year=date.year, number=first + i, date=date,
                     kind=p.kind, source=p.source[:100], memo=p.memo[:200],
                     term_id=getattr(p.term, "pk", p.term), reverses=p.reverses,
                     posted_by=user, posted_at=now)
        for i, p in enumerate(postings)])
    JournalLine.objects.bulk_create([
        JournalLine(entry=entry, account=line.account, debit=line.debit, credit=line.credit,
                    student_id=getattr(line.student, "pk", line.student))
        for entry, p in zip(entries, postings, strict=True) for line in p.lines])
    return entries


def post(*, school: School | int, user: User | None, date: datetime.date | None = None,
         **posting) -> JournalEntry:
    """Post one entry (`posting`: Posting's fields)."""
    return post_many(school=school, postings=[Posting(**posting)], user=user, date=date)[0]


def reverse(entry: JournalEntry, *, kind: str, source: str, memo: str, user: User | None
            ) -> JournalEntry:
    """The entry that undoes `entry` (each line on the other side); at most one per entry."""
    return post(school=entry.school_id, kind=kind, source=source, memo=memo, user=user,
                term=entry.term_id, reverses=entry,
                lines=[Line(line.account, debit=line.credit, credit=line.debit,
                            student=line.student_id) for line in entry.lines.all()])


@dataclass(frozen=True)
class Balance:
    account: str
    name: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Signed on the account's normal side."""
        if self.account[0] in DEBIT_NORMAL:
            return self.debit - self.credit
        return self.credit - self.debit


def trial_balance(school_id: int, date: datetime.date) -> list[Balance]:
    """Every account of the chart with its debit and credit totals up to `date` (one query);
    the debit and credit columns add up to the same sum."""
    totals = {row["account"]: row for row in JournalLine.objects.filter(
        entry__school_id=school_id, entry__date__lte=date).values("account").annotate(
        debit=Sum("debit"), credit=Sum("credit"))}
    return [Balance(code, str(name), totals.get(code, {}).get("debit") or ZERO,
                    totals.get(code, {}).get("credit") or ZERO)
            for code, name in Account.choices]


def journal(school_id: int, start: datetime.date, end: datetime.date):
    """The school's entries between two dates, with their lines (two queries)."""
    return (JournalEntry.objects.filter(school_id=school_id, date__range=(start, end))
            .prefetch_related("lines").order_by("year", "number"))


def family_balance(student_id: int, term_id: int | None = None) -> Decimal:
    """What the family owes for the child (negative: what the school owes them), from the
    family receivable's lines."""
    q = Q(account=Account.FAMILIES, student_id=student_id)
    if term_id is not None:
        q &= Q(entry__term_id=term_id)
    row = JournalLine.objects.filter(q).aggregate(d=Sum("debit"), c=Sum("credit"))
    return (row["d"] or ZERO) - (row["c"] or ZERO)
