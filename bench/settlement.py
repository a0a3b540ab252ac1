"""Term-end settlement (学期末结算多退少补) of a whole school, and recording payments.

    .venv/bin/python bench/settlement.py [--enrolments 3000] [--city 30000]

Builds, in the configured database (DATABASE_URL, or the embedded PostgreSQL), a school of its
own whose term ended yesterday: N pupils enrolled from the term's start at noon and in the
afternoon, Monday to Friday, charged by the fee standard's publication (2 元 per class-hour),
one slot-day in 50 on leave, one child in 40 withdrawn half-way, 1% with a waiver, nine in ten
paid in full in bulk. The tenth pay through the API (POST /api/v1/payments/ with an
Idempotency-Key, in-process): the payment figures are theirs. Then the term is settled in one
request's work (`term_settle`), and again (which must post nothing).

With --city M, a second school of M enrolments is settled by the Celery job
(`billing.tasks.settle_term`, run in this process) while a thread prints its progress.

Prints, per run: time, queries, entries posted, refunds and top-ups, and the process's peak
memory. Everything runs in one transaction that is rolled back at the end (the ledger is
append-only; rolling back is the only way to leave nothing behind); before the rollback every
deferred check of the ledger's balance is run (SET CONSTRAINTS ALL IMMEDIATE). Targets (issue
12): the 3,000 settlement under 10 s in a bounded number of queries (pinned in
tests/billing/test_settlement_scale.py); recording a payment under 30 ms median.
"""

import os
import resource
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from billing import ledger, services, settlement  # noqa: E402
from billing.models import Payment  # noqa: E402
from billing.tasks import settle_progress, settle_term  # noqa: E402
from tests.billing.scale import ended_school  # noqa: E402

TAG = f"BS{os.getpid()}"


def arg(name: str, default: int) -> int:
    args = sys.argv[1:]
    return int(args[args.index(name) + 1]) if name in args else default


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def analyse() -> None:
    tables = connection.introspection.django_table_names(only_existing=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


def build(n: int, tag: str):
    started = time.perf_counter()
    school = ended_school(n, tag=tag)
    for i in range(5, n, 100):  # 1% of the families
        services.waiver_grant(user=school.principal, student=school.students[i],
                              term=school.term, kind="percent", value=Decimal(50),
                              reason="家庭经济困难", borne_by="bureau", evidence=f"低保证 {i:05d}")
    analyse()
    print(f"set-up: {n:,} enrolments, {school.leaves:,} leave slot-days, "
          f"{school.withdrawn} withdrawn, {school.paid:,} paid in bulk "
          f"({time.perf_counter() - started:.1f} s)")
    return school


def payments_through_the_api(school) -> list[float]:
    """The unpaid families pay, one request each: the milliseconds of each."""
    paid = set(Payment.objects.filter(term=school.term).values_list("student_id", flat=True))
    client = APIClient()
    client.force_authenticate(school.finance)
    times = []
    for student in school.students:
        if student.pk in paid:
            continue
        owed = ledger.family_balance(student.pk, school.term.pk)
        if owed <= 0:
            continue
        body = {"student": student.pk, "term": school.term.pk, "amount": f"{owed:.2f}",
                "method": "alipay", "reference": f"A{uuid.uuid4().hex[:20]}"}
        start = time.perf_counter()
        response = client.post("/api/v1/payments/", body, format="json",
                               HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()), HTTP_HOST="127.0.0.1")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 201, response.content[:300]
    return times


def settle_once(school, label: str) -> None:
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        done = settlement.term_settle(term=school.term, user=school.principal)
        elapsed = time.perf_counter() - start
    print(f"{label}: {elapsed:.2f} s, {len(queries)} queries, {done.settlement.entries:,} "
          f"entries posted, {len(done.refunds):,} refunds = {done.total_refund:,.2f} 元, "
          f"{len(done.top_ups):,} top-ups = {done.total_top_up:,.2f} 元, "
          f"peak memory {peak_mb():.0f} MB")


def city(m: int) -> None:
    school = build(m, f"{TAG}C")
    stop = threading.Event()

    def watch():
        last = None
        while not stop.wait(1.0):
            now = settle_progress(school.term.pk)
            if now != last and now:
                print(f"    progress: {now}")
                last = now

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    result = settle_term.apply(args=[school.term.pk, school.principal.pk]).get()
    elapsed = time.perf_counter() - start
    stop.set()
    watcher.join()
    print(f"city job ({m:,} enrolments): {elapsed:.2f} s, result {result}, "
          f"peak memory {peak_mb():.0f} MB")


def main() -> None:
    from django.core.management import call_command

    n = arg("--enrolments", 3000)
    m = arg("--city", 0)
    call_command("migrate", verbosity=0)  # a fresh clone's database, or one behind the code
    with transaction.atomic():
        school = build(n, TAG)
        times = payments_through_the_api(school)
        if times:
            times.sort()
            print(f"payments through the API: {len(times)} requests, median "
                  f"{statistics.median(times):.1f} ms, p90 {times[int(len(times) * 0.9)]:.1f} ms")
        settle_once(school, f"settlement ({n:,} enrolments)")
        settle_once(school, "settlement again")
        if m:
            city(m)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # every entry balanced, or raise
        rows = ledger.trial_balance(school.school.pk, timezone.localdate())
        print(f"trial balance: debit {sum(r.debit for r in rows):,.2f} = credit "
              f"{sum(r.credit for r in rows):,.2f}")
        transaction.set_rollback(True)
    print("bench data rolled back")


if __name__ == "__main__":
    main()
