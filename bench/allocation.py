"""Allocation into temporary classes, at school and city scale.

    .venv/bin/python bench/allocation.py            (school: 3,000 children, 60 activities;
                                                     city: 30,000 children, 600 activities)
    .venv/bin/python bench/allocation.py --solver   (the solver only, no database)

For each size it generates an instance — capacities 40–45, 15% priority children, grades 1–6
with each activity open to a contiguous range of 2–6 grades, three ranked choices per child
among the activities open to its grade, drawn with skewed popularity — and prints:

- solve: the min-cost-flow solve alone (scheduling.allocation.solve), best of 3, and its
  peak memory (tracemalloc);
- request: one `POST /api/v1/menus/{id}/allocate/` by the principal on a school built for the
  purpose (enrolments, the published menu and the choices written in bulk, inside a
  transaction rolled back at the end, so nothing is left behind), with its wall time, its
  number of queries and the rows it wrote;
- the counts of first, second and third choices, unplaced children and unplaced priority
  children.
"""

import datetime
import os
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from scheduling import allocation  # noqa: E402

SIZES = [(3_000, 60), (30_000, 600)]
CHOICES = 3
TAG = f"BA{os.getpid()}"


def generate(n_children: int, n_offers: int, seed: int = 1):
    """(children, offers) of a school-like instance."""
    rng = random.Random(seed)
    offers, grade_ranges = [], {}
    for i in range(n_offers):
        width = rng.randint(2, 6)
        low = rng.randint(1, 7 - width)
        grades = frozenset(range(low, low + width))
        offers.append(allocation.Offer(id=i + 1, seats=rng.randint(40, 45), grades=grades))
        grade_ranges[i + 1] = grades
    popularity = {o.id: rng.paretovariate(1.2) for o in offers}
    open_to = {g: [o.id for o in offers if g in o.grades] for g in range(1, 7)}
    children = []
    for c in range(n_children):
        grade = rng.randint(1, 6)
        pool = list(open_to[grade])
        ranked = []
        while pool and len(ranked) < CHOICES:
            pick = rng.choices(pool, [popularity[o] for o in pool])[0]
            pool.remove(pick)
            ranked.append(pick)
        children.append(allocation.Child(id=c + 1, grade=grade, ranked=tuple(ranked),
                                         priority=rng.random() < 0.15))
    return children, offers


def figures(result: allocation.Result, children) -> dict:
    priority = {c.id for c in children if c.priority}
    first, second, third = result.rank_counts(CHOICES)
    return {"first": first, "second": second, "third": third,
            "unplaced": len(result.unplaced),
            "priority_unplaced": sum(1 for c in result.unplaced if c in priority)}


def run_solver(n: int, a: int) -> dict:
    children, offers = generate(n, a)
    best = min(allocation.solve(children, offers, seed="bench").solve_seconds
               for _ in range(3))
    tracemalloc.start()
    result = allocation.solve(children, offers, seed="bench")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # tracemalloc sees Python's allocations only; the process's peak RSS includes the solver's.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"solve_s": best, "peak_mib": peak / 2**20, "rss_mib": rss,
            **figures(result, children)}


# --- the whole request, on a school of its own ------------------------------------------------

def run_request(n: int, a: int) -> dict:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from enrollment.models import Application, Enrolment, TermPlan
    from notifications.models import Notification
    from scheduling import services
    from scheduling.models import Activity, Choice, Menu, MenuItem, Placement, TemporaryClass
    from schools.models import AuditEntry, ServiceSlot, Staff
    from tests.factories import school_with_pupils

    children, offers = generate(n, a)
    today = timezone.localdate()
    monday = today + datetime.timedelta(days=7 - today.weekday())
    with transaction.atomic():
        started = time.perf_counter()
        pupils = school_with_pupils(
            n, tag=f"{TAG}-{n}", grades=range(1, 7), homerooms_per_grade=max(1, n // 6 // 45 + 1),
            pupil_grades=[c.grade for c in children], slots=[(ServiceSlot.Kind.AFTERNOON, 1)],
            phone_prefix=f"B{os.getpid() % 100000}-", temp_class_cap=45)
        school, term, principal = pupils.school, pupils.term, pupils.principal
        slot = pupils.slots[0]
        students, users = pupils.students, pupils.users
        staff = Staff.objects.bulk_create([Staff(school=school, name=f"教师{i}")
                                           for i in range(a + n // 45 + 10)])
        plan = TermPlan.objects.create(term=term, status="published", version=1,
                                       complaint_phone="0000", published_by=principal,
                                       published_at=timezone.now())
        now = timezone.now()
        apps = Application.objects.bulk_create([
            Application(term=term, student=s, applicant=u, plan=plan, submitted_at=now,
                        status="approved", is_priority=c.priority)
            for s, u, c in zip(students, users, children, strict=True)], batch_size=5000)
        enrolments = Enrolment.objects.bulk_create([
            Enrolment(term=term, student=s, application=ap, start_date=term.start)
            for s, ap in zip(students, apps, strict=True)], batch_size=5000)
        Enrolment.slots.through.objects.bulk_create([
            Enrolment.slots.through(enrolment_id=e.pk, serviceslot_id=slot.pk)
            for e in enrolments], batch_size=5000)
        activities = Activity.objects.bulk_create([
            Activity(school=school, name=f"活动{o.id}", category="club",
                     grades=sorted(o.grades), capacity=o.seats, teacher=staff[i],
                     room=f"场地{o.id}") for i, o in enumerate(offers)])
        menu = Menu.objects.create(school=school, term=term, week=monday,
                                   status="published", version=1, created_by=principal,
                                   choice_deadline=timezone.now() - datetime.timedelta(hours=1))
        items = MenuItem.objects.bulk_create([
            MenuItem(menu=menu, activity=act, slot=slot, teacher=act.teacher, room=act.room,
                     grades=act.grades, capacity=act.capacity, start=slot.start, end=slot.end)
            for act in activities])
        item_of = {o.id: item for o, item in zip(offers, items, strict=True)}
        Choice.objects.bulk_create([
            Choice(menu=menu, student=s, slot=slot, item=item_of[o], rank=r, chosen_by=u)
            for s, u, c in zip(students, users, children, strict=True)
            for r, o in enumerate(c.ranked, start=1)], batch_size=10000)
        setup_s = time.perf_counter() - started

        counted = {"classes": TemporaryClass, "placements": Placement,
                   "notifications": Notification, "audit": AuditEntry}
        before = {k: m.objects.count() for k, m in counted.items()}
        client = Client()
        client.force_login(principal)
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            response = client.post(f"/api/v1/menus/{menu.pk}/allocate/", {"seed": "bench"},
                                   content_type="application/json", HTTP_HOST="127.0.0.1")
            request_s = time.perf_counter() - t0
        assert response.status_code == 200, response.content[:500]
        stats = response.json()
        rows = {k: m.objects.count() - before[k] for k, m in counted.items()}
        transaction.set_rollback(True)
    del services
    return {"setup_s": setup_s, "request_s": request_s, "queries": len(queries),
            "rows": rows, "stats": stats}


def main() -> None:
    solver_only = "--solver" in sys.argv
    for n, a in SIZES:
        s = run_solver(n, a)
        print(f"{n:>6,} children, {a} activities — solve {s['solve_s']:.3f} s "
              f"(best of 3), peak {s['peak_mib']:.1f} MiB in Python, process max RSS "
              f"{s['rss_mib']:.0f} MiB; first {s['first']}, "
              f"second {s['second']}, third {s['third']}, unplaced {s['unplaced']}, "
              f"unplaced priority {s['priority_unplaced']}")
        if solver_only:
            continue
        r = run_request(n, a)
        st = r["stats"]
        rows = ", ".join(f"{k} {v}" for k, v in r["rows"].items())
        print(f"        allocate request {r['request_s']:.2f} s, {r['queries']} queries "
              f"(set-up {r['setup_s']:.1f} s, rolled back); rows: {rows}")
        print(f"        request figures: first {st['first_choice']}, second "
              f"{st['second_choice']}, third {st['third_choice']}, unplaced {st['unplaced']}, "
              f"unplaced priority {st['priority_unplaced']}, classes {st['classes']}, "
              f"solve inside {st['solve_seconds']:.3f} s")


if __name__ == "__main__":
    main()
