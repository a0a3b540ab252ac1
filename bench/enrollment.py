"""Processing a whole school's applications through the API: (a) one bulk approval
(bulk-decide) of N class-approved applications by the principal and (b) one bulk class review
(bulk-review) of N submitted applications by the homeroom teacher.

    .venv/bin/python bench/enrollment.py [N]          (N defaults to 1,000)

It builds a district and school of its own ("BENCH-…" codes) with a term, its slots, a
published plan and 2×N pupils, each with a guardian of their own, inside one transaction that
is rolled back at the end: the demo data is never touched and nothing is left behind (the audit
trail is append-only, so rolling back is the only way to leave no trace). on_commit callbacks,
such as the e-mail delivery tasks, therefore never run.

Prints, for each request: wall time, number of queries (including the session and user
lookups of the logged-in request) and the rows it created."""

import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from enrollment import services  # noqa: E402
from enrollment.models import Application, Enrolment  # noqa: E402
from notifications.models import Notification  # noqa: E402
from schools.models import AuditEntry, GuardianStudent, School  # noqa: E402
from tests.factories import school_with_pupils  # noqa: E402

TAG = f"BENCH-{os.getpid()}"  # unique per run, so two runs at once never collide

COUNTED = {
    "enrolments": Enrolment,
    "enrolment slots": Enrolment.slots.through,
    "audit entries": AuditEntry,
    "notifications": Notification,
}


def _applications(term, plan, students, status: str) -> list[int]:
    applicant = dict(GuardianStudent.objects.filter(student__in=students)
                     .values_list("student_id", "guardian__user_id"))
    now = timezone.now()
    applications = Application.objects.bulk_create([
        Application(term=term, student=s, applicant_id=applicant[s.pk], plan=plan,
                    submitted_at=now, status=status)
        for s in students])
    slot_ids = list(term.slots.values_list("pk", flat=True))
    Application.slots.through.objects.bulk_create([
        Application.slots.through(application_id=a.pk, serviceslot_id=slot)
        for a in applications for slot in slot_ids])
    return [a.pk for a in applications]


def build(n: int):
    """N pupils in grade 3 class 1 (applications class-approved) and N in class 2 (submitted,
    for its head teacher)."""
    today = timezone.localdate()
    pupils = school_with_pupils(2 * n, tag=TAG, grades=[3], homerooms_per_grade=2,
                                heads=True, phone_prefix=f"B{os.getpid()}-")
    term, principal = pupils.term, pupils.principal
    class1, class2 = pupils.homerooms
    plan = services.plan_publish(plan=services.plan_save_draft(
        term=term, user=principal, agreement_text="课后服务安全责任书",
        complaint_phone="0000-0000000", fee_standard="每生每课时 2 元",
        withdrawal_rule="提前 7 天书面申请", safety_measures="点名、签到签退",
        applications_open=today - datetime.timedelta(days=10),
        applications_close=today + datetime.timedelta(days=10)), user=principal)
    to_decide = _applications(term, plan, [s for s in pupils.students
                                           if s.homeroom_id == class1.pk],
                              Application.Status.CLASS_APPROVED)
    to_review = _applications(term, plan, [s for s in pupils.students
                                           if s.homeroom_id == class2.pk],
                              Application.Status.SUBMITTED)
    return principal, class2.head_teacher.user, to_decide, to_review


def _counts() -> dict[str, int]:
    return {label: model.objects.count() for label, model in COUNTED.items()}


def timed(user, path: str, ids: list[int], changed_status: str) -> dict:
    client = Client()
    client.force_login(user)
    before = _counts()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.post(path, {"ids": ids}, content_type="application/json",
                               HTTP_HOST="127.0.0.1")
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content[:500]
    after = _counts()
    rows = {label: after[label] - before[label] for label in before}
    rows["applications updated"] = Application.objects.filter(
        pk__in=ids, status=changed_status).count()
    return {"ms": elapsed * 1000, "queries": len(queries), "rows": rows,
            "response": response.json()}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with transaction.atomic():
        start = time.perf_counter()
        principal, head, to_decide, to_review = build(n)
        setup_s = time.perf_counter() - start
        decide = timed(principal, "/api/v1/applications/bulk-decide/", to_decide,
                       Application.Status.APPROVED)
        review = timed(head, "/api/v1/applications/bulk-review/", to_review,
                       Application.Status.CLASS_APPROVED)
        transaction.set_rollback(True)

    print(f"school {TAG}-S: {n} class-approved + {n} submitted applications "
          f"(set-up {setup_s:.1f} s, rolled back)")
    for label, result in (("(a) bulk-decide", decide), ("(b) bulk-review", review)):
        rows = ", ".join(f"{k} {v}" for k, v in result["rows"].items() if v)
        print(f"{label}: {result['ms']:8.1f} ms  {result['queries']:3d} queries  "
              f"response {result['response']}")
        print(f"    rows: {rows}")
    left = School.objects.filter(code__startswith=TAG).exists()
    print(f"bench data left behind: {'YES' if left else 'none'}")


if __name__ == "__main__":
    main()
