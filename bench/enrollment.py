"""Processing a whole school's applications: one bulk class review and one bulk approval of
1,000 applications, through the API, on a school of its own that is rolled back afterwards.

    .venv/bin/python bench/enrollment.py [N]

Prints wall time, queries and rows written for each request."""

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
from schools.models import (  # noqa: E402
    District,
    Grade,
    Homeroom,
    Membership,
    Role,
    School,
    ServiceSlot,
    Staff,
    Student,
    Term,
    User,
)


def build(n: int):
    today = timezone.localdate()
    district = District.objects.create(name="基准区", code="BENCH-D")
    school = School.objects.create(district=district, name="基准小学", code="BENCH-S")
    term = Term.objects.create(school=school, name="基准学期",
                               start=today - datetime.timedelta(days=30),
                               end=today + datetime.timedelta(days=90))
    ServiceSlot.objects.bulk_create([
        ServiceSlot(term=term, kind=kind, weekday=d, start=start, end=end, class_hours=hours)
        for d in range(1, 6)
        for kind, start, end, hours in [("noon", "11:40", "14:10", 2),
                                        ("afternoon", "16:20", "18:00", 1)]])
    principal = User.objects.create(username="bench-principal")
    Membership.objects.create(user=principal, role=Role.PRINCIPAL, school=school)
    head_user = User.objects.create(username="bench-homeroom")
    Membership.objects.create(user=head_user, role=Role.HOMEROOM_TEACHER, school=school)
    head = Staff.objects.create(school=school, user=head_user, name="基准班主任")
    grade = Grade.objects.create(school=school, number=3, name="3年级")
    homeroom = Homeroom.objects.create(school=school, grade=grade, name="1班", head_teacher=head)
    plan = services.plan_publish(plan=services.plan_save_draft(
        term=term, user=principal, agreement_text="安全责任书", complaint_phone="0000",
        fee_standard="每课时 2 元", withdrawal_rule="提前 7 天", safety_measures="点名"),
        user=principal)
    students = Student.objects.bulk_create([
        Student(school=school, grade=grade, homeroom=homeroom, student_no=f"B{i:06d}",
                name=f"学生{i}") for i in range(n)])
    now = timezone.now()
    applications = Application.objects.bulk_create([
        Application(term=term, student=s, applicant=principal, plan=plan, submitted_at=now)
        for s in students])
    slot_ids = list(term.slots.values_list("pk", flat=True))
    Application.slots.through.objects.bulk_create([
        Application.slots.through(application_id=a.pk, serviceslot_id=slot)
        for a in applications for slot in slot_ids])
    return principal, head_user, [a.pk for a in applications]


def timed(user, path: str, ids: list[int]) -> tuple[float, int]:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.post(path, {"ids": ids}, content_type="application/json",
                               HTTP_HOST="127.0.0.1")
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content[:500]
    return elapsed, len(queries)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with transaction.atomic():
        principal, head, ids = build(n)
        review_s, review_q = timed(head, "/api/v1/applications/bulk-review/", ids)
        decide_s, decide_q = timed(principal, "/api/v1/applications/bulk-decide/", ids)
        enrolments = Enrolment.objects.filter(application_id__in=ids).count()
        print(f"applications: {n}")
        print(f"bulk class review : {review_s * 1000:8.1f} ms  {review_q:3d} queries")
        print(f"bulk approval     : {decide_s * 1000:8.1f} ms  {decide_q:3d} queries  "
              f"({enrolments} enrolments, {enrolments * 10} enrolment slots)")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
