"""The enrollment reminders and notices: who is told what, on which day, and never twice.

Dates are passed explicitly (run_all(today)); the Celery task, which runs eagerly in tests,
uses the real date, so its test moves the plan's window to today instead."""

import datetime

import pytest
from django.utils import timezone

from enrollment import reminders
from enrollment.models import Application, TermPlan
from enrollment.tasks import send_enrollment_reminders
from notifications.models import Notification
from schools.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def inbox(purpose: str, **filters):
    return Notification.objects.filter(purpose=purpose, channel="in_app", **filters)


def recipients(purpose: str, **filters) -> list[int]:
    return sorted(inbox(purpose, **filters).values_list("recipient_id", flat=True))


@pytest.fixture
def other_guardians(cast):
    """Guardians of a pupil in another school of the district and in the other district."""
    users = []
    for child in (cast.other_school_child, cast.far_child):
        guardian = f.GuardianFactory()
        f.link_guardian(guardian, child)
        users.append(guardian.user)
    return users


# --- Applications open -----------------------------------------------------------------------

def test_every_guardian_of_the_school_is_told_once_when_applications_open(cast, plan,
                                                                          other_guardians):
    open_day = plan.applications_open

    assert reminders.run_all(open_day - DAY)["applications_open"] == 0
    reminders.run_all(open_day)

    # parent has two children at the school and is still told once.
    assert recipients("enrollment.applications_open") == sorted([cast.parent.pk,
                                                                 cast.parent2.pk])
    notice = inbox("enrollment.applications_open", recipient=cast.parent).get()
    assert cast.school.name in notice.body
    assert str(plan.applications_close) in notice.body
    assert notice.payload == {"term": cast.term.pk}

    # The same day again, and the day after: nothing new.
    assert reminders.run_all(open_day)["applications_open"] == 0
    assert reminders.applications_open_reminders(open_day + DAY) == 0
    assert inbox("enrollment.applications_open").count() == 2
    assert not inbox("enrollment.applications_open", recipient__in=other_guardians).exists()


def test_inactive_pupils_and_users_are_not_told(cast, plan):
    cast.other_child.active = False
    cast.other_child.save(update_fields=["active"])
    reminders.applications_open_reminders(plan.applications_open)
    assert recipients("enrollment.applications_open") == [cast.parent.pk]


def test_the_daily_task_sends_the_opening_reminder_once(cast, plan, other_guardians):
    today = timezone.localdate()
    TermPlan.objects.filter(pk=plan.pk).update(applications_open=today)

    result = send_enrollment_reminders.delay().get()

    assert result["applications_open"] == 4  # two guardians, in-app and e-mail
    assert recipients("enrollment.applications_open") == sorted([cast.parent.pk,
                                                                 cast.parent2.pk])
    assert Notification.objects.filter(purpose="enrollment.applications_open",
                                       channel="email").count() == 2

    again = send_enrollment_reminders.delay().get()

    assert again["applications_open"] == 0
    assert inbox("enrollment.applications_open").count() == 2
    assert not inbox("enrollment.applications_open", recipient__in=other_guardians).exists()


def test_no_reminder_for_a_draft_plan(cast):
    from enrollment import services

    today = timezone.localdate()
    services.plan_save_draft(term=cast.term, user=cast.principal, agreement_text="草稿",
                             applications_open=today,
                             applications_close=today + datetime.timedelta(days=7))
    assert reminders.run_all(today)["applications_open"] == 0
    assert not inbox("enrollment.applications_open").exists()


# --- Applications closing --------------------------------------------------------------------

def test_two_days_before_the_close_only_guardians_who_have_not_applied_are_told(
        cast, plan, apply_for, other_guardians):
    assert apply_for(cast.other_child, user=cast.parent2).status_code == 201
    reminder_day = plan.applications_close - 2 * DAY

    assert reminders.applications_closing_reminders(reminder_day - DAY) == 0
    assert reminders.applications_closing_reminders(reminder_day + DAY) == 0
    reminders.run_all(reminder_day)

    assert recipients("enrollment.applications_closing") == [cast.parent.pk]
    notice = inbox("enrollment.applications_closing").get()
    assert str(plan.applications_close) in notice.body
    assert not inbox("enrollment.applications_open").exists()  # not the opening day

    assert reminders.run_all(reminder_day)["applications_closing"] == 0
    assert inbox("enrollment.applications_closing").count() == 1
    assert not inbox("enrollment.applications_closing", recipient__in=other_guardians).exists()


def test_a_guardian_is_reminded_while_any_child_has_no_application(cast, plan, apply_for, api):
    """parent has two pupils at the school: one application leaves the other unapplied; a
    cancelled application does not count as applied."""
    reminder_day = plan.applications_close - 2 * DAY
    child_app = apply_for(cast.child).json()["id"]
    sibling_app = apply_for(cast.sibling).json()["id"]
    assert apply_for(cast.other_child, user=cast.parent2).status_code == 201

    assert reminders.applications_closing_reminders(reminder_day) == 0
    assert not inbox("enrollment.applications_closing").exists()

    api(cast.parent).post(f"/api/v1/applications/{sibling_app}/cancel/")
    assert Application.objects.get(pk=sibling_app).status == "cancelled"
    assert Application.objects.get(pk=child_app).status == "submitted"
    reminders.applications_closing_reminders(reminder_day)
    assert recipients("enrollment.applications_closing") == [cast.parent.pk]


# --- Homeroom teachers' review digest --------------------------------------------------------

def test_homeroom_teachers_digest_counts_only_their_own_class(cast, plan, apply_for, api):
    apply_for(cast.child)                                      # homeroom (王老师)
    apply_for(cast.sibling)                                    # homeroom2 (李老师)
    third = apply_for(cast.other_child, user=cast.parent2).json()["id"]  # homeroom2
    today = timezone.localdate()

    reminders.run_all(today)

    assert recipients("enrollment.review_digest") == sorted([cast.homeroom_teacher.pk,
                                                            cast.homeroom_teacher2.pk])
    first = inbox("enrollment.review_digest", recipient=cast.homeroom_teacher).get()
    second = inbox("enrollment.review_digest", recipient=cast.homeroom_teacher2).get()
    assert first.payload == {"pending": 1} and "1 份" in first.body
    assert second.payload == {"pending": 2} and "2 份" in second.body

    # A second run the same day adds nothing, even when the count has changed.
    response = api(cast.homeroom_teacher2).post(f"/api/v1/applications/{third}/review/",
                                                {"decision": "approve"}, format="json")
    assert response.status_code == 200
    assert reminders.review_digests(today) == 0
    assert inbox("enrollment.review_digest").count() == 2

    # The next day: again, with the new count (class-approved ones no longer wait).
    reminders.run_all(today + DAY)
    assert inbox("enrollment.review_digest").count() == 4
    latest = inbox("enrollment.review_digest",
                   recipient=cast.homeroom_teacher2).order_by("-id").first()
    assert latest.payload == {"pending": 1}
    assert not inbox("enrollment.review_digest",
                     recipient__in=[cast.principal, cast.teacher, cast.parent]).exists()


def test_no_digest_without_pending_applications(cast, class_approved):
    assert reminders.review_digests(timezone.localdate()) == 0
    assert not inbox("enrollment.review_digest").exists()


# --- Principals' decision digest -------------------------------------------------------------

def test_principal_digest_counts_class_approved_applications_of_their_school_only(
        cast, class_approved, apply_for):
    apply_for(cast.other_child, user=cast.parent2)  # submitted only: not counted
    office = f.UserFactory(username="office")
    f.grant(office, Role.OFFICE, school=cast.school)
    today = timezone.localdate()

    reminders.run_all(today)

    assert recipients("enrollment.decision_digest") == sorted([cast.principal.pk, office.pk])
    notice = inbox("enrollment.decision_digest", recipient=cast.principal).get()
    assert notice.payload == {"pending": 1, "school": cast.school.pk}
    assert "1 份" in notice.body
    assert not inbox("enrollment.decision_digest",
                     recipient__in=[cast.principal2, cast.homeroom_teacher, cast.officer,
                                    cast.finance]).exists()
    assert reminders.decision_digests(today) == 0
    assert inbox("enrollment.decision_digest").count() == 2


def test_each_principal_is_told_their_own_schools_count(cast, class_approved):
    from enrollment import services

    draft = services.plan_save_draft(
        term=cast.other_term, user=cast.principal2, agreement_text="安全责任书",
        complaint_phone="0356-1", fee_standard="每课时 2 元", withdrawal_rule="提前 7 天",
        safety_measures="点名", applications_open=datetime.date(2000, 1, 1),
        applications_close=datetime.date(2100, 1, 1))
    other_plan = services.plan_publish(plan=draft, user=cast.principal2)
    guardian = f.GuardianFactory()
    f.link_guardian(guardian, cast.other_school_child)
    for student, term, plan in ((cast.other_school_child, cast.other_term, other_plan),
                                (cast.other_child, cast.term, class_approved.plan)):
        Application.objects.create(term=term, student=student, applicant=guardian.user,
                                   plan=plan, submitted_at=timezone.now(),
                                   status=Application.Status.CLASS_APPROVED)

    reminders.decision_digests(timezone.localdate())

    mine = inbox("enrollment.decision_digest", recipient=cast.principal).get()
    theirs = inbox("enrollment.decision_digest", recipient=cast.principal2).get()
    assert mine.payload == {"pending": 2, "school": cast.school.pk}
    assert theirs.payload == {"pending": 1, "school": cast.other_school.pk}


# --- Decisions and withdrawals ---------------------------------------------------------------

def decisions(user):
    return list(inbox("enrollment.decision", recipient=user).order_by("id")
                .values_list("body", flat=True))


def test_the_guardian_is_told_every_return_and_refusal_with_its_reason(cast, plan, submitted,
                                                                       api):
    review = f"/api/v1/applications/{submitted.pk}/review/"
    response = api(cast.homeroom_teacher).post(
        review, {"decision": "return", "reason": "请补充双职工证明"}, format="json")
    assert response.status_code == 200
    assert len(decisions(cast.parent)) == 1
    assert "退回修改" in decisions(cast.parent)[0]
    assert "理由：请补充双职工证明" in decisions(cast.parent)[0]

    slots = list(cast.term.slots.values_list("pk", flat=True))
    response = api(cast.parent).post(
        f"/api/v1/applications/{submitted.pk}/resubmit/",
        {"slots": slots, "agreement_version": plan.version, "signed_name": "张伟"},
        format="json")
    assert response.status_code == 200, response.content
    response = api(cast.homeroom_teacher).post(
        review, {"decision": "return", "reason": "证明材料不清晰"}, format="json")
    assert response.status_code == 200
    # The second return is told again, with its own reason.
    assert len(decisions(cast.parent)) == 2
    assert "证明材料不清晰" in decisions(cast.parent)[1]

    api(cast.parent).post(f"/api/v1/applications/{submitted.pk}/resubmit/",
                          {"slots": slots, "agreement_version": plan.version,
                           "signed_name": "张伟"}, format="json")
    response = api(cast.homeroom_teacher).post(
        review, {"decision": "reject", "reason": "不在服务范围内"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert len(decisions(cast.parent)) == 3
    assert "未通过" in decisions(cast.parent)[2]
    assert "理由：不在服务范围内" in decisions(cast.parent)[2]
    assert not inbox("enrollment.decision", recipient=cast.parent2).exists()


def test_the_guardian_is_told_the_principals_refusal_with_its_reason(cast, class_approved,
                                                                     api):
    response = api(cast.principal).post(
        f"/api/v1/applications/{class_approved.pk}/decide/",
        {"decision": "reject", "reason": "本学期名额已满"}, format="json")
    assert response.status_code == 200
    [body] = decisions(cast.parent)
    assert "本学期名额已满" in body
    assert cast.child.name in body


def test_the_guardian_is_told_the_approval(cast, enrolment):
    [body] = decisions(cast.parent)
    assert "已批准" in body and cast.child.name in body
    notice = inbox("enrollment.decision", recipient=cast.parent).get()
    assert notice.payload == {"application": enrolment.application_id, "status": "approved"}
    assert Notification.objects.filter(purpose="enrollment.decision", recipient=cast.parent,
                                       channel="email").count() == 1


def test_the_guardian_is_told_a_bulk_approval(cast, class_approved, api):
    response = api(cast.principal).post("/api/v1/applications/bulk-decide/",
                                        {"ids": [class_approved.pk]}, format="json")
    assert response.status_code == 200
    [body] = decisions(cast.parent)
    assert "已批准" in body


def _withdraw(cast, enrolment, api):
    effective = timezone.localdate() + datetime.timedelta(days=7)
    response = api(cast.parent).post(f"/api/v1/enrolments/{enrolment.pk}/withdrawal/",
                                     {"effective_date": effective.isoformat(),
                                      "reason": "家中有老人接送"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"], effective


def test_the_guardian_is_told_the_withdrawal_approval(cast, enrolment, api):
    withdrawal_id, effective = _withdraw(cast, enrolment, api)
    assert not inbox("enrollment.withdrawal").exists()

    response = api(cast.principal).post(f"/api/v1/withdrawals/{withdrawal_id}/decide/",
                                        {"decision": "approve"}, format="json")

    assert response.status_code == 200
    notice = inbox("enrollment.withdrawal", recipient=cast.parent).get()
    assert str(effective) in notice.body and cast.child.name in notice.body
    assert notice.payload == {"withdrawal": withdrawal_id, "status": "approved"}


def test_the_guardian_is_told_the_withdrawal_refusal_with_its_reason(cast, enrolment, api):
    withdrawal_id, _effective = _withdraw(cast, enrolment, api)

    response = api(cast.principal).post(f"/api/v1/withdrawals/{withdrawal_id}/decide/",
                                        {"decision": "reject", "reason": "本月费用已结算"},
                                        format="json")

    assert response.status_code == 200
    notice = inbox("enrollment.withdrawal", recipient=cast.parent).get()
    assert "本月费用已结算" in notice.body
    assert notice.payload["status"] == "rejected"
