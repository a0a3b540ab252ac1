"""Every row of API.md's Enrollment table, allowed and denied."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from enrollment import services
from enrollment.models import Application, ClaimEvidence, Enrolment, Leave, Signature, Withdrawal
from notifications.models import Notification
from schools.models import AuditEntry

pytestmark = pytest.mark.django_db


# --- GET /api/v1/terms/{id}/plan/ ------------------------------------------------------------

def test_guardian_reads_the_published_plan_with_its_agreement(cast, plan, api):
    response = api(cast.parent).get(f"/api/v1/terms/{cast.term.pk}/plan/")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1
    assert body["agreement"] == {"version": 1, "text": plan.agreement_text}
    assert body["complaint_phone"] == "0356-2020123"
    assert len(body["slots"]) == 10 and body["slots"][0]["start"] == "11:40"


def test_a_later_change_publishes_a_new_version(cast, plan, api):
    draft = services.plan_save_draft(term=cast.term, user=cast.principal,
                                     agreement_text="新版安全责任书")
    services.plan_publish(plan=draft, user=cast.principal)
    body = api(cast.parent).get(f"/api/v1/terms/{cast.term.pk}/plan/").json()
    assert body["agreement"] == {"version": 2, "text": "新版安全责任书"}
    assert body["fee_standard"] == plan.fee_standard  # carried over from version 1
    plan.refresh_from_db()
    assert plan.agreement_text != "新版安全责任书"  # the published version stays frozen


def test_plan_of_another_school_is_404(cast, plan, api):
    assert api(cast.parent2).get(f"/api/v1/terms/{cast.other_term.pk}/plan/").status_code == 404
    assert api(cast.principal2).get(f"/api/v1/terms/{cast.term.pk}/plan/").status_code == 404
    assert api(None).get(f"/api/v1/terms/{cast.term.pk}/plan/").status_code == 401


def test_an_unpublished_plan_is_404(cast, api):
    services.plan_save_draft(term=cast.term, user=cast.principal, agreement_text="草稿")
    assert api(cast.parent).get(f"/api/v1/terms/{cast.term.pk}/plan/").status_code == 404


# --- POST /api/v1/applications/ --------------------------------------------------------------

def test_guardian_applies_and_signs(cast, plan, apply_for):
    response = apply_for(cast.child, priority_claims=["left_behind"], note="爷爷奶奶照看",
                         HTTP_USER_AGENT="Mobile Safari")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "submitted"
    application = Application.objects.get(pk=response.json()["id"])
    assert application.is_priority and application.priority_claims == ["left_behind"]
    signature = Signature.objects.get(application=application)
    assert (signature.signer, signature.plan, signature.signed_name) == (
        cast.parent, plan, "张伟")
    assert signature.ip_address == "127.0.0.1"
    assert signature.agreement_digest == plan.agreement_digest
    assert AuditEntry.objects.filter(action="enrollment.application.submitted",
                                     object_id=str(application.pk)).exists()


def test_applying_for_another_familys_child_is_404(cast, apply_for):
    assert apply_for(cast.other_child).status_code == 404
    assert not Application.objects.exists()


def test_a_second_open_application_is_409(cast, submitted, apply_for):
    response = apply_for(cast.child)
    assert response.status_code == 409
    assert response.json()["code"] == "already_open"


def test_a_stale_agreement_version_is_400(cast, plan, apply_for):
    draft = services.plan_save_draft(term=cast.term, user=cast.principal,
                                     agreement_text="第二版")
    services.plan_publish(plan=draft, user=cast.principal)
    response = apply_for(cast.child, agreement_version=1)
    assert response.status_code == 400
    assert "agreement_version" in response.json()
    assert not Application.objects.exists()


@pytest.mark.parametrize("overrides, field", [
    ({"slots": [999999]}, "slots"),
    ({"slots": []}, "slots"),
    ({"priority_claims": ["rich"]}, "priority_claims"),
    ({"signed_name": "别人"}, "signed_name"),
    ({"start_date": "2030-01-01"}, "start_date"),
])
def test_bad_input_names_the_field_and_changes_nothing(cast, apply_for, overrides, field):
    response = apply_for(cast.child, **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Application.objects.exists() and not Signature.objects.exists()


def test_a_slot_of_another_school_is_refused(cast, apply_for):
    foreign = cast.other_term.slots.first()
    response = apply_for(cast.child, slots=[foreign.pk])
    assert response.status_code == 400 and "slots" in response.json()


def test_messages_follow_accept_language(cast, apply_for):
    response = apply_for(cast.child, slots=[999999], HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "时段" in response.json()["slots"][0]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _multipart(cast, plan, **extra):
    slots = list(cast.term.slots.filter(kind="afternoon").values_list("pk", flat=True))
    return {"student": cast.child.pk, "term": cast.term.pk, "slots": slots,
            "priority_claims": ["disabled"], "agreement_version": plan.version,
            "signed_name": "张伟", **extra}


def test_evidence_image_is_kept(cast, plan, api):
    upload = SimpleUploadedFile("证明.png", _png(), content_type="image/png")
    response = api(cast.parent).post(
        "/api/v1/applications/",
        _multipart(cast, plan, evidence=[upload], evidence_codes=["disabled"]),
        format="multipart")
    assert response.status_code == 201, response.content
    evidence = ClaimEvidence.objects.get()
    assert evidence.code == "disabled" and evidence.content_type == "image/png"


@pytest.mark.parametrize("name, content", [
    ("photo.png", b"MZ\x90\x00 this is an executable"),
    ("photo.pdf", _png()),
    ("notes.txt", b"plain text"),
    ("big.pdf", b"%PDF-1.4" + b"0" * (5 * 1024 * 1024 + 1)),
])
def test_fake_or_oversized_evidence_is_refused_and_nothing_saved(cast, plan, api, name,
                                                                 content):
    upload = SimpleUploadedFile(name, content)
    response = api(cast.parent).post(
        "/api/v1/applications/",
        _multipart(cast, plan, evidence=[upload], evidence_codes=["disabled"]),
        format="multipart")
    assert response.status_code == 400, response.content
    assert "evidence" in response.json()
    assert not Application.objects.exists() and not ClaimEvidence.objects.exists()


def test_applications_closed_is_409(cast, plan, apply_for):
    draft = services.plan_save_draft(
        term=cast.term, user=cast.principal,
        applications_open=timezone.localdate() - datetime.timedelta(days=20),
        applications_close=timezone.localdate() - datetime.timedelta(days=1))
    services.plan_publish(plan=draft, user=cast.principal)
    response = apply_for(cast.child, agreement_version=2)
    assert response.status_code == 409 and response.json()["code"] == "applications_closed"


# --- GET /api/v1/applications/ ---------------------------------------------------------------

def test_reviewers_see_what_waits_for_them(cast, submitted, apply_for, api):
    sibling = apply_for(cast.sibling).json()["id"]
    mine = api(cast.homeroom_teacher).get("/api/v1/applications/?status=submitted").json()
    assert [a["id"] for a in mine["results"]] == [submitted.pk]
    other = api(cast.homeroom_teacher2).get("/api/v1/applications/").json()
    assert [a["id"] for a in other["results"]] == [sibling]
    school = api(cast.principal).get(f"/api/v1/applications/?term={cast.term.pk}").json()
    assert school["count"] == 2
    assert api(cast.principal2).get("/api/v1/applications/").json()["count"] == 0
    assert api(cast.parent2).get("/api/v1/applications/").json()["count"] == 0


def test_application_list_query_count_is_pinned(cast, submitted, apply_for, api,
                                                django_assert_max_num_queries):
    apply_for(cast.sibling)
    with django_assert_max_num_queries(8):
        assert api(cast.principal).get("/api/v1/applications/").status_code == 200


# --- POST /api/v1/applications/{id}/review/ --------------------------------------------------

def test_homeroom_teacher_approves(cast, submitted, api):
    response = api(cast.homeroom_teacher).post(
        f"/api/v1/applications/{submitted.pk}/review/",
        {"decision": "approve", "verified_claims": ["dual_working"]}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "class_approved"
    submitted.refresh_from_db()
    assert submitted.reviewed_by == cast.homeroom_teacher
    assert AuditEntry.objects.filter(action="enrollment.application.reviewed").count() == 1


def test_teacher_of_another_homeroom_cannot_review(cast, submitted, api):
    for user in (cast.homeroom_teacher2, cast.teacher, cast.parent, cast.principal2):
        response = api(user).post(f"/api/v1/applications/{submitted.pk}/review/",
                                  {"decision": "approve"}, format="json")
        assert response.status_code == 404, user
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


@pytest.mark.parametrize("decision", ["return", "reject"])
def test_return_or_reject_needs_a_reason(cast, submitted, api, decision):
    response = api(cast.homeroom_teacher).post(
        f"/api/v1/applications/{submitted.pk}/review/", {"decision": decision}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_a_returned_application_is_corrected_and_resubmitted(cast, plan, submitted, api):
    response = api(cast.homeroom_teacher).post(
        f"/api/v1/applications/{submitted.pk}/review/",
        {"decision": "return", "reason": "请补充证明材料"}, format="json")
    assert response.json()["status"] == "returned"
    notice = Notification.objects.get(recipient=cast.parent, purpose="enrollment.decision",
                                      channel="in_app")
    assert "请补充证明材料" in notice.body
    slots = list(cast.term.slots.values_list("pk", flat=True))
    response = api(cast.parent).post(
        f"/api/v1/applications/{submitted.pk}/resubmit/",
        {"slots": slots, "agreement_version": plan.version, "signed_name": "张伟"},
        format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    assert Signature.objects.filter(application=submitted).count() == 2


def test_boarding_pupils_may_be_refused_by_rule_without_a_reason(cast, plan, api, apply_for):
    cast.child.boarding = True
    cast.child.save(update_fields=["boarding"])
    application_id = apply_for(cast.child).json()["id"]
    response = api(cast.homeroom_teacher).post(
        f"/api/v1/applications/{application_id}/review/", {"decision": "reject"},
        format="json")
    assert response.status_code == 200 and response.json()["reason"] == "寄宿生"


def test_guardian_cancels_before_the_decision(cast, submitted, api):
    response = api(cast.parent).post(f"/api/v1/applications/{submitted.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api(cast.parent2).post(
        f"/api/v1/applications/{submitted.pk}/cancel/").status_code == 404


# --- POST /api/v1/applications/{id}/decide/ --------------------------------------------------

def test_principal_approves_and_an_enrolment_exists(cast, class_approved, api):
    response = api(cast.principal).post(
        f"/api/v1/applications/{class_approved.pk}/decide/", {"decision": "approve"},
        format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    enrolment = Enrolment.objects.get(pk=body["enrolment"])
    assert enrolment.student == cast.child and enrolment.status == "active"
    assert set(enrolment.slots.all()) == set(class_approved.slots.all())
    assert enrolment.start_date == timezone.localdate()
    assert Notification.objects.filter(recipient=cast.parent, purpose="enrollment.decision",
                                       body__contains="已批准").exists()


def test_mid_term_join_starts_on_the_chosen_date(cast, class_approved, api):
    start = timezone.localdate() + datetime.timedelta(days=14)
    body = api(cast.principal).post(
        f"/api/v1/applications/{class_approved.pk}/decide/",
        {"decision": "approve", "start_date": start.isoformat()}, format="json").json()
    assert Enrolment.objects.get(pk=body["enrolment"]).start_date == start


def test_approval_before_class_review_is_409(cast, submitted, api):
    response = api(cast.principal).post(
        f"/api/v1/applications/{submitted.pk}/decide/", {"decision": "approve"}, format="json")
    assert response.status_code == 409
    assert not Enrolment.objects.exists()


def test_another_schools_principal_cannot_decide(cast, class_approved, api):
    for user in (cast.principal2, cast.homeroom_teacher, cast.parent, cast.officer):
        response = api(user).post(f"/api/v1/applications/{class_approved.pk}/decide/",
                                  {"decision": "approve"}, format="json")
        assert response.status_code == 404, user
    assert not Enrolment.objects.exists()


def test_principal_rejects_with_a_reason_only(cast, class_approved, api):
    url = f"/api/v1/applications/{class_approved.pk}/decide/"
    assert api(cast.principal).post(url, {"decision": "reject"},
                                    format="json").status_code == 400
    response = api(cast.principal).post(url, {"decision": "reject", "reason": "名额已满"},
                                        format="json")
    assert response.json()["status"] == "rejected"


# --- Withdrawal ------------------------------------------------------------------------------

def test_withdrawal_inside_the_notice_period_is_400_with_the_earliest_date(cast, enrolment,
                                                                          api):
    soon = timezone.localdate() + datetime.timedelta(days=3)
    response = api(cast.parent).post(f"/api/v1/enrolments/{enrolment.pk}/withdrawal/",
                                     {"effective_date": soon.isoformat(), "reason": "搬家"},
                                     format="json")
    assert response.status_code == 400
    earliest = timezone.localdate() + datetime.timedelta(days=7)
    assert earliest.isoformat() in response.json()["effective_date"][0]
    assert not Withdrawal.objects.exists()


def test_withdrawal_approved_ends_the_enrolment_on_its_date(cast, enrolment, api):
    effective = timezone.localdate() + datetime.timedelta(days=7)
    response = api(cast.parent).post(f"/api/v1/enrolments/{enrolment.pk}/withdrawal/",
                                     {"effective_date": effective.isoformat(),
                                      "reason": "家中有老人接送"}, format="json")
    assert response.status_code == 201, response.content
    withdrawal_id = response.json()["id"]
    assert api(cast.principal2).post(f"/api/v1/withdrawals/{withdrawal_id}/decide/",
                                     {"decision": "approve"},
                                     format="json").status_code == 404
    response = api(cast.principal).post(f"/api/v1/withdrawals/{withdrawal_id}/decide/",
                                        {"decision": "approve"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    enrolment.refresh_from_db()
    assert enrolment.end_date == effective and enrolment.status == "active"
    assert services.enrolments_end_due(today=effective + datetime.timedelta(days=1)) == 1
    enrolment.refresh_from_db()
    assert enrolment.status == "ended"
    assert Notification.objects.filter(recipient=cast.parent,
                                       purpose="enrollment.withdrawal").exists()


def test_withdrawal_for_another_familys_enrolment_is_404(cast, enrolment, api):
    effective = timezone.localdate() + datetime.timedelta(days=10)
    response = api(cast.parent2).post(f"/api/v1/enrolments/{enrolment.pk}/withdrawal/",
                                      {"effective_date": effective.isoformat(), "reason": "x"},
                                      format="json")
    assert response.status_code == 404


# --- Leave -----------------------------------------------------------------------------------

def _next(weekday: int) -> datetime.date:
    day = timezone.localdate() + datetime.timedelta(days=1)
    while day.isoweekday() != weekday:
        day += datetime.timedelta(days=1)
    return day


def test_guardian_reports_leave(cast, enrolment, api):
    slot = enrolment.slots.order_by("weekday").first()
    day = _next(slot.weekday)
    response = api(cast.parent).post("/api/v1/leave/", {
        "student": cast.child.pk, "date": day.isoformat(), "slot": slot.pk, "reason": "看牙医"},
        format="json")
    assert response.status_code == 201, response.content
    assert Leave.objects.get().reason == "看牙医"
    again = api(cast.parent).post("/api/v1/leave/", {
        "student": cast.child.pk, "date": day.isoformat(), "slot": slot.pk, "reason": "看牙医"},
        format="json")
    assert again.status_code == 409


def test_leave_for_another_familys_child_or_a_wrong_day_is_refused(cast, enrolment, api):
    slot = enrolment.slots.order_by("weekday").first()
    day = _next(slot.weekday)
    assert api(cast.parent2).post("/api/v1/leave/", {
        "student": cast.child.pk, "date": day.isoformat(), "slot": slot.pk, "reason": "x"},
        format="json").status_code == 404
    wrong = day + datetime.timedelta(days=1)
    response = api(cast.parent).post("/api/v1/leave/", {
        "student": cast.child.pk, "date": wrong.isoformat(), "slot": slot.pk, "reason": "x"},
        format="json")
    assert response.status_code == 400 and "date" in response.json()
