"""`manage.py seed_demo` also seeds the enrollment stage: a published plan and applications in
every state, the demo families' fixed situations, and nothing new on a second run."""

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from enrollment.models import (
    Application,
    Enrolment,
    Leave,
    Signature,
    TermPlan,
    Withdrawal,
)
from enrollment.selectors import applications_to_decide, applications_to_review
from notifications.models import Notification
from schools.models import AuditEntry, School, ServiceSlot, User
from schools.selectors import children_of

PASSWORD = "pw-12345-x"
COUNTED = [TermPlan, Application, Signature, Enrolment, Enrolment.slots.through, Leave,
           Withdrawal, AuditEntry, Notification]


def counts() -> dict[str, int]:
    by_model = {model.__name__: model.objects.count() for model in COUNTED}
    by_status = {f"application.{status}": n for status, n in
                 Application.objects.values_list("status").order_by("status")
                 .annotate(n=Count("pk"))}
    return by_model | by_status


@pytest.fixture
def seeded(db, demo_once):
    first = counts()
    primary = School.objects.get(code="DEMO-P1")
    today = timezone.localdate()
    term = primary.terms.get(start__lte=today, end__gte=today)
    return first, term


@pytest.mark.django_db
def test_published_plan_with_open_window(seeded):
    _, term = seeded
    plan = term.plans.get(status=TermPlan.Status.PUBLISHED)
    assert plan.version == 1
    today = timezone.localdate()
    assert plan.applications_open < today < plan.applications_close
    assert "1+X" in plan.menu_outline and "2 元" in plan.fee_standard
    assert "安全责任书" in plan.agreement_text and "接送" in plan.agreement_text
    assert plan.complaint_phone == term.school.complaint_phone
    assert len(plan.slots_snapshot) == 10
    middle = School.objects.get(code="DEMO-M1")
    assert middle.terms.get(start__lte=today, end__gte=today).plans.filter(
        status=TermPlan.Status.PUBLISHED).count() == 1


@pytest.mark.django_db
def test_applications_in_every_state(seeded):
    _, term = seeded
    apps = term.applications.all()
    for status in Application.Status.values:
        assert apps.filter(status=status).exists(), status
    pupils = term.school.students.count()
    assert 0.55 * pupils <= apps.count() <= 0.75 * pupils
    assert apps.filter(status="approved").count() > apps.count() / 2
    for app in apps.filter(status__in=["returned", "rejected"]):
        assert app.reason.strip()
    assert apps.exclude(priority_claims=[]).exists()
    assert apps.filter(status="class_approved", is_priority=True).exists()
    # Every application signed by its guardian, on the published version.
    assert Signature.objects.filter(application__term=term).count() == apps.count()
    assert not apps.exclude(signatures__user_agent="seed_demo").exists()
    # Approved ⇔ an active enrolment (one of them asks to withdraw, still active until then).
    assert Enrolment.objects.filter(term=term).count() == apps.filter(status="approved").count()


@pytest.mark.django_db
def test_demo_families(seeded):
    _, term = seeded
    first, second = list(children_of(User.objects.get(username="parent")))
    assert first.homeroom.head_teacher.user.username == "homeroom"
    assert not Application.objects.filter(student=first, term=term).exists()

    enrolment = Enrolment.objects.get(student=second, term=term, status="active")
    slots = list(enrolment.slots.all())
    assert len(slots) == 10
    assert sorted(s.weekday for s in slots if s.kind == ServiceSlot.Kind.NOON) == [1, 2, 3, 4, 5]
    assert sorted(s.weekday for s in slots
                  if s.kind == ServiceSlot.Kind.AFTERNOON) == [1, 2, 3, 4, 5]
    assert not enrolment.leaves.exists() and not enrolment.withdrawals.exists()

    (child2,) = children_of(User.objects.get(username="parent2"))
    app = Application.objects.get(student=child2, term=term)
    assert app.status == Application.Status.SUBMITTED
    assert app.signatures.get().signed_name == "刘芳"


@pytest.mark.django_db
def test_queues_are_populated(seeded):
    _, term = seeded
    homeroom = User.objects.get(username="homeroom")
    assert applications_to_review(homeroom).filter(status="submitted").exists()
    homeroom2 = User.objects.get(username="homeroom2")
    assert applications_to_review(homeroom2).filter(status="submitted").exists()
    principal = User.objects.get(username="principal")
    assert applications_to_decide(principal).filter(status="class_approved").exists()


@pytest.mark.django_db
def test_leaves_and_a_pending_withdrawal(seeded):
    _, term = seeded
    today = timezone.localdate()
    assert Leave.objects.filter(enrolment__term=term).count() >= 2
    withdrawal = Withdrawal.objects.get(enrolment__term=term)
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    notice = term.school.withdrawal_notice_days
    assert (withdrawal.effective_date - today).days >= notice


@pytest.mark.django_db
def test_second_run_creates_nothing(seeded):
    first, _ = seeded
    call_command("seed_demo", password=PASSWORD, quiet=True)
    assert counts() == first
