"""The enrollment pages, as guardians, homeroom teachers and principals use them."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from enrollment.models import Application, Enrolment, Leave, TermPlan, Withdrawal
from schools.models import AuditEntry

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, "PNG")
    return buffer.getvalue()


def _as(client, user):
    client.force_login(user)
    return client


def _form(cast, plan, **extra):
    slots = list(cast.term.slots.filter(kind="afternoon").values_list("pk", flat=True))
    data = {"slots": slots, "agreement_version": plan.version, "signed_name": "张伟",
            "confirm": "on", "note": ""}
    data.update(extra)
    return data


def test_the_guardian_overview_offers_the_plan_and_the_form(cast, plan, client):
    page = _as(client, cast.parent).get("/enrollment/").content.decode()
    assert "张小明" in page and "张小红" in page
    assert f"/enrollment/terms/{cast.term.pk}/plan/" in page
    assert f"/enrollment/terms/{cast.term.pk}/apply/{cast.child.pk}/" in page


def test_the_plan_page_shows_the_disclosure(cast, plan, client):
    page = _as(client, cast.parent).get(f"/enrollment/terms/{cast.term.pk}/plan/")
    text = page.content.decode()
    for part in ["安全责任书", "每生每课时 2 元", "0356-2020123", "提前 7 天"]:
        assert part in text
    assert _as(client, cast.principal2).get(
        f"/enrollment/terms/{cast.term.pk}/plan/").status_code == 404


def test_a_guardian_applies_with_evidence_and_signs(cast, plan, client):
    evidence = SimpleUploadedFile("proof.png", _png(), content_type="image/png")
    response = _as(client, cast.parent).post(
        f"/enrollment/terms/{cast.term.pk}/apply/{cast.child.pk}/",
        _form(cast, plan, priority_claims=["dual_working"], evidence=evidence),
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.objects.get(student=cast.child)
    assert application.status == "submitted"
    assert application.evidence.get().code == "dual_working"
    signature = application.signatures.get()
    assert signature.signed_name == "张伟" and signature.user_agent == "Mozilla/5.0 (iPhone)"
    assert signature.plan.version == plan.version
    printable = client.get(f"/enrollment/applications/{application.pk}/agreement/")
    text = printable.content.decode()
    assert "张伟" in text and "课后服务安全责任书" in text


@pytest.mark.parametrize("extra,field_message", [
    ({"signed_name": "别人"}, "签名须与监护人登记姓名"),
    ({"confirm": ""}, "请确认已阅读并同意安全责任书"),
    ({"slots": []}, "请至少选择一个服务时段"),
    ({"agreement_version": 99}, "请阅读最新版本后重新签署"),
])
def test_bad_applications_are_refused_with_a_message_and_save_nothing(cast, plan, client,
                                                                       extra, field_message):
    response = _as(client, cast.parent).post(
        f"/enrollment/terms/{cast.term.pk}/apply/{cast.child.pk}/", _form(cast, plan, **extra))
    assert response.status_code == 200
    assert field_message in response.content.decode()
    assert not Application.objects.exists()


def test_fake_evidence_is_refused(cast, plan, client):
    fake = SimpleUploadedFile("proof.png", b"MZ this is not a picture", content_type="image/png")
    response = _as(client, cast.parent).post(
        f"/enrollment/terms/{cast.term.pk}/apply/{cast.child.pk}/",
        _form(cast, plan, priority_claims=["migrant"], evidence=fake))
    assert "文件内容与类型不符" in response.content.decode()
    assert not Application.objects.exists()


def test_another_familys_child_cannot_be_applied_for(cast, plan, client):
    response = _as(client, cast.parent2).post(
        f"/enrollment/terms/{cast.term.pk}/apply/{cast.child.pk}/", _form(cast, plan))
    assert response.status_code == 404


def test_the_homeroom_teacher_reviews_from_the_queue(cast, submitted, client):
    queue = _as(client, cast.homeroom_teacher).get("/enrollment/review/").content.decode()
    assert "张小明" in queue
    response = client.post(f"/enrollment/applications/{submitted.pk}/review/",
                           {"decision": "return", "reason": ""})
    submitted.refresh_from_db()
    assert submitted.status == "submitted"  # a return needs a reason
    client.post(f"/enrollment/applications/{submitted.pk}/review/",
                {"decision": "return", "reason": "请补充证明"})
    submitted.refresh_from_db()
    assert submitted.status == "returned" and submitted.reason == "请补充证明"
    assert response.status_code == 302


def test_another_homerooms_teacher_cannot_review(cast, submitted, client):
    response = _as(client, cast.homeroom_teacher2).post(
        f"/enrollment/applications/{submitted.pk}/review/", {"decision": "approve"})
    assert response.status_code == 404


def test_the_homeroom_teacher_bulk_approves(cast, apply_for, client):
    first = apply_for(cast.child).json()["id"]
    response = _as(client, cast.homeroom_teacher).post("/enrollment/review/", {"ids": [first]})
    assert response.status_code == 302
    assert Application.objects.get(pk=first).status == "class_approved"


def test_the_principal_sees_figures_and_bulk_approves(cast, class_approved, client):
    page = _as(client, cast.principal).get("/enrollment/decide/").content.decode()
    assert "张小明" in page and "已报名" in page
    client.post("/enrollment/decide/", {"ids": [class_approved.pk]})
    class_approved.refresh_from_db()
    assert class_approved.status == "approved"
    assert Enrolment.objects.filter(student=cast.child, status="active").exists()
    assert AuditEntry.objects.filter(action="enrollment.application.decided").exists()


def test_principal2_cannot_decide(cast, class_approved, client):
    response = _as(client, cast.principal2).post(
        f"/enrollment/applications/{class_approved.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404


def test_staff_see_the_history_on_the_application_page(cast, class_approved, client):
    page = _as(client, cast.principal).get(
        f"/enrollment/applications/{class_approved.pk}/").content.decode()
    assert "班主任审核" in page and "变更记录" in page
    assert "enrollment.application.reviewed" not in page
    guardian_page = _as(client, cast.parent).get(
        f"/enrollment/applications/{class_approved.pk}/").content.decode()
    assert "变更记录" not in guardian_page


def test_the_principal_edits_and_publishes_a_new_version(cast, plan, client):
    data = {f: getattr(plan, f) or "" for f in [
        "service_days", "menu_outline", "staffing", "fee_standard", "fee_settlement",
        "withdrawal_rule", "safety_measures", "agreement_text", "complaint_phone",
        "complaint_email"]}
    data.update(agreement_text="新版安全责任书", applications_open=plan.applications_open,
                applications_close=plan.applications_close, publish="1")
    response = _as(client, cast.principal).post(
        f"/enrollment/terms/{cast.term.pk}/plan/edit/", data)
    assert response.status_code == 302
    latest = TermPlan.objects.filter(term=cast.term, status="published").order_by("-version")[0]
    assert latest.version == plan.version + 1 and latest.agreement_text == "新版安全责任书"
    assert _as(client, cast.principal2).get(
        f"/enrollment/terms/{cast.term.pk}/plan/edit/").status_code == 404


def test_leave_and_withdrawal_forms(cast, enrolment, client):
    slot = enrolment.slots.order_by("weekday").first()
    day = timezone.localdate() + datetime.timedelta(days=1)
    while day.isoweekday() != slot.weekday:
        day += datetime.timedelta(days=1)
    _as(client, cast.parent).post(f"/enrollment/enrolments/{enrolment.pk}/leave/",
                                  {"date": day.isoformat(), "slot": slot.pk, "reason": "看病"})
    assert Leave.objects.filter(enrolment=enrolment, date=day).exists()

    too_soon = timezone.localdate() + datetime.timedelta(days=2)
    page = client.post(f"/enrollment/enrolments/{enrolment.pk}/withdraw/",
                       {"effective_date": too_soon.isoformat(), "reason": "搬家"})
    assert "最早可选" in page.content.decode()
    assert not Withdrawal.objects.exists()
    later = timezone.localdate() + datetime.timedelta(days=10)
    client.post(f"/enrollment/enrolments/{enrolment.pk}/withdraw/",
                {"effective_date": later.isoformat(), "reason": "搬家"})
    assert Withdrawal.objects.get().effective_date == later
    assert _as(client, cast.parent2).get(
        f"/enrollment/enrolments/{enrolment.pk}/withdraw/").status_code == 404
