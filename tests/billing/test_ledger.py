"""The ledger's rules, held by PostgreSQL itself (raw SQL, not the ORM): an unbalanced entry
is refused at commit, a posted entry or line is never changed or erased, a receipt only gains
its fiscal e-receipt once; numbers have no gaps, even across a rolled-back posting."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from billing import ledger
from billing.models import Account, JournalEntry, NumberSeries, Payment

pytestmark = pytest.mark.django_db(transaction=True)


def _post(cast, source, lines, user=None):
    with transaction.atomic():
        return ledger.post(school=cast.school, kind=JournalEntry.Kind.CHARGE, source=source,
                           memo="测试", lines=lines, user=user, term=cast.term)


def test_a_balanced_entry_is_posted_and_numbered(cast):
    first = _post(cast, "t:1", [ledger.debit(Account.FAMILIES, "10.00", cast.child),
                                ledger.credit(Account.PREPAID, "10.00")])
    second = _post(cast, "t:2", [ledger.debit(Account.BANK, "3.33"),
                                 ledger.credit(Account.FAMILIES, "3.33", cast.child)])
    assert (first.number, second.number) == (1, 2)
    assert ledger.family_balance(cast.child.pk, cast.term.pk) == Decimal("6.67")
    rows = ledger.trial_balance(cast.school.pk, second.date)
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows) == Decimal("13.33")


def test_the_database_refuses_an_unbalanced_entry_at_commit(cast):
    with pytest.raises(IntegrityError, match="unbalanced"):
        _post(cast, "t:bad", [ledger.debit(Account.FAMILIES, "10.00", cast.child),
                              ledger.credit(Account.PREPAID, "9.99")])
    # In raw SQL too, and an entry with a single line or none.
    entry = _post(cast, "t:ok", [ledger.debit(Account.BANK, "1.00"),
                                 ledger.credit(Account.FAMILIES, "1.00", cast.child)])
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic(), connection.cursor() as c:
            c.execute("INSERT INTO billing_journalline (entry_id, account, debit, credit) "
                      "VALUES (%s, '1002', 5, 0)", [entry.pk])
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic(), connection.cursor() as c:
            c.execute("INSERT INTO billing_journalentry (school_id, year, number, date, kind, "
                      "source, memo, posted_at) VALUES (%s, 2026, 999, now(), 'charge', "
                      "'t:empty', '空', now())", [cast.school.pk])
    assert not JournalEntry.objects.filter(source__in=["t:bad", "t:empty"]).exists()
    # The control: the balanced entry above was accepted.
    assert entry.lines.count() == 2


@pytest.mark.parametrize("sql", [
    "UPDATE billing_journalline SET debit = debit + 1 WHERE entry_id = %s",
    "DELETE FROM billing_journalline WHERE entry_id = %s",
    "UPDATE billing_journalentry SET memo = '改' WHERE id = %s",
    "DELETE FROM billing_journalentry WHERE id = %s",
])
def test_a_posted_entry_is_never_changed_or_erased(cast, sql):
    entry = _post(cast, "t:1", [ledger.debit(Account.BANK, "1.00"),
                                ledger.credit(Account.FAMILIES, "1.00", cast.child)])
    with pytest.raises(InternalError, match="append-only"):
        with transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [entry.pk])
    assert entry.lines.count() == 2


def test_a_posting_rolled_back_gives_its_number_back(cast):
    _post(cast, "t:1", [ledger.debit(Account.BANK, "1.00"),
                        ledger.credit(Account.FAMILIES, "1.00", cast.child)])
    with pytest.raises(IntegrityError):
        _post(cast, "t:2", [ledger.debit(Account.BANK, "1.00"),
                            ledger.credit(Account.FAMILIES, "0.50", cast.child)])
    third = _post(cast, "t:3", [ledger.debit(Account.BANK, "1.00"),
                                ledger.credit(Account.FAMILIES, "1.00", cast.child)])
    assert third.number == 2
    assert NumberSeries.objects.get(school=cast.school, series="journal").last == 2


def test_the_same_event_is_posted_once(cast):
    lines = [ledger.debit(Account.BANK, "1.00"), ledger.credit(Account.FAMILIES, "1.00",
                                                               cast.child)]
    _post(cast, "t:once", lines)
    with pytest.raises(IntegrityError):
        _post(cast, "t:once", lines)
    assert JournalEntry.objects.filter(source="t:once").count() == 1


def test_amounts_beyond_the_fen_are_refused_not_rounded():
    with pytest.raises(ValueError):
        ledger.fen("1.005")
    assert ledger.fen("1.5") == Decimal("1.50")


def test_a_receipt_only_gains_its_fiscal_e_receipt_once(cast, fee, enrolled, api):
    response = api(cast.finance).post(
        "/api/v1/payments/", {"student": cast.child.pk, "term": cast.term.pk,
                              "amount": "100.00", "method": "cash"},
        format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    # Before the fiscal e-receipt too, nothing else of the receipt may change.
    with pytest.raises(InternalError, match="receipt is never"):
        with transaction.atomic(), connection.cursor() as c:
            c.execute("UPDATE billing_payment SET amount = 1, fiscal_code = 'x' WHERE id = %s",
                      [pk])
    with connection.cursor() as c:
        c.execute("UPDATE billing_payment SET fiscal_code = '14010126', fiscal_number = "
                  "'0000123' WHERE id = %s", [pk])
    for sql in ("UPDATE billing_payment SET fiscal_number = '9' WHERE id = %s",
                "UPDATE billing_payment SET amount = 1 WHERE id = %s",
                "DELETE FROM billing_payment WHERE id = %s"):
        with pytest.raises(InternalError, match="receipt is never"):
            with transaction.atomic(), connection.cursor() as c:
                c.execute(sql, [pk])
    assert Payment.objects.get(pk=pk).fiscal_number == "0000123"
