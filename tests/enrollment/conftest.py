import datetime

import pytest
from django.utils import timezone

from enrollment import services
from enrollment.models import Application


@pytest.fixture
def plan(cast):
    """The cast school's published term plan (version 1), applications open."""
    today = timezone.localdate()
    draft = services.plan_save_draft(
        term=cast.term, user=cast.principal,
        service_days="周一至周五 午间 11:40–14:10，课后 16:20–18:00",
        menu_outline="1+X：作业辅导、阅读、体育、艺术、科学",
        fee_standard="每生每课时 2 元，每学期一次性收取，期末多退少补",
        fee_settlement="学期末按实际服务结算",
        withdrawal_rule="提前 7 天书面申请，经学校批准后退出",
        safety_measures="临时班主任点名、签到签退、家长接送确认",
        agreement_text="课后服务安全责任书：家长与学校明确看护时间、形式与双方责任……",
        complaint_phone="0356-2020123", complaint_email="kehou@school.example.cn",
        applications_open=today - datetime.timedelta(days=3),
        applications_close=today + datetime.timedelta(days=10))
    return services.plan_publish(plan=draft, user=cast.principal)


@pytest.fixture
def apply_for(cast, plan, api):
    """apply_for(student, user=...) → the API response of a valid application."""

    def submit(student, user=None, **overrides):
        user = user or cast.parent
        slots = list(cast.term.slots.filter(kind="afternoon").values_list("pk", flat=True))
        body = {"student": student.pk, "term": cast.term.pk, "slots": slots,
                "priority_claims": [], "agreement_version": plan.version,
                "signed_name": user.guardian_profile.name}
        headers = {k: overrides.pop(k) for k in list(overrides) if k.startswith("HTTP_")}
        body.update(overrides)
        return api(user).post("/api/v1/applications/", body, format="json", **headers)

    return submit


@pytest.fixture
def submitted(cast, apply_for):
    response = apply_for(cast.child, priority_claims=["dual_working"])
    assert response.status_code == 201, response.content
    return Application.objects.get(pk=response.json()["id"])


@pytest.fixture
def class_approved(cast, submitted, api):
    response = api(cast.homeroom_teacher).post(
        f"/api/v1/applications/{submitted.pk}/review/", {"decision": "approve"}, format="json")
    assert response.status_code == 200, response.content
    submitted.refresh_from_db()
    return submitted


@pytest.fixture
def enrolment(cast, class_approved, api):
    response = api(cast.principal).post(
        f"/api/v1/applications/{class_approved.pk}/decide/", {"decision": "approve"},
        format="json")
    assert response.status_code == 200, response.content
    class_approved.refresh_from_db()
    return class_approved.enrolment
