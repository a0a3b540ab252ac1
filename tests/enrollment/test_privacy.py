"""A child's sensitive data (DESIGN.md; PIPL, minimum necessary): applications with their claims,
evidence and signature, priority categories, evidence files. Only the child's guardians, the
homeroom teacher of the child's homeroom and the school's principal and office see them; a
serving teacher who heads the child's temporary class, finance, another family and the district
do not."""

import importlib
import io
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import clear_url_caches
from PIL import Image

from enrollment.models import Application, ClaimEvidence
from scheduling.models import Placement, TemporaryClass
from schools.models import Role, Staff, Student
from tests import factories as f
from tests.scheduling.conftest import (  # noqa: F401
    activities,
    allocated,
    class_of,
    enrol,
    enrolled,
    menu,
    monday,
    monday_choices,
    published,
    teachers,
)

pytestmark = pytest.mark.django_db

READERS = ("parent", "homeroom_teacher", "principal", "office")
OTHERS = ("teacher", "finance", "officer", "parent2", "homeroom_teacher2", "principal2")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media_roots(settings, tmp_path):  # noqa: F811
    """The public and the private roots of this test, both empty."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    return tmp_path


@pytest.fixture
def people(cast):
    """The cast, with the school's after-school office."""
    office = f.UserFactory(username="office", display_name="课后办")
    f.grant(office, Role.OFFICE, school=cast.school)
    cast.office = office
    return cast


@pytest.fixture
def served(people, allocated, activities):  # noqa: F811
    """The child is enrolled (claiming dual-working parents) and sits in Monday's basketball
    class, which the cast's serving teacher heads: the teacher reaches the child."""
    cls = class_of(allocated, activities.sports, 1)
    assert Placement.objects.filter(temporary_class=cls, student=people.child).exists()
    TemporaryClass.objects.filter(pk=cls.pk).update(
        head_teacher=Staff.objects.get(user=people.teacher))
    Student.objects.filter(pk=people.child.pk).update(priority_categories=["disabled"])
    application = Application.objects.get(student=people.child)
    evidence = ClaimEvidence.objects.create(
        application=application, code="dual_working", content_type="image/png", size=4,
        file=SimpleUploadedFile("张小明在职证明.png", _png(), content_type="image/png"))
    return {"class": cls, "application": application, "evidence": evidence}


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- Applications: read by those who decide with them (issue 9, item 15) --------------------

@pytest.mark.parametrize("role", READERS)
def test_an_application_is_read_by_the_guardian_the_homeroom_teacher_and_the_school(
        people, served, role):
    client, pk = _client(getattr(people, role)), served["application"].pk
    listed = client.get("/api/v1/applications/").json()["results"]
    assert pk in [a["id"] for a in listed]
    assert client.get(f"/api/v1/applications/{pk}/").status_code == 200
    assert client.get(f"/enrollment/applications/{pk}/").status_code == 200
    assert client.get(f"/enrollment/applications/{pk}/agreement/").status_code == 200


@pytest.mark.parametrize("role", OTHERS)
def test_nobody_else_lists_or_opens_an_application(people, served, role):
    client, pk = _client(getattr(people, role)), served["application"].pk
    listed = client.get("/api/v1/applications/").json()["results"]
    assert pk not in [a["id"] for a in listed]
    assert client.get(f"/api/v1/applications/{pk}/").status_code == 404
    assert client.get(f"/enrollment/applications/{pk}/").status_code == 404
    assert client.get(f"/enrollment/applications/{pk}/agreement/").status_code == 404


def test_a_serving_teacher_still_sees_the_child_on_the_roster(people, served):
    """The narrower rule is for applications; the child stays in the teacher's scope."""
    response = _client(people.teacher).get(f"/api/v1/students/{people.child.pk}/")
    assert response.status_code == 200 and response.json()["name"] == people.child.name


# --- Priority categories: shown only where one decides (item 4) -----------------------------

@pytest.mark.parametrize("role", READERS)
def test_the_student_api_gives_the_categories_to_those_who_decide(people, served, role):
    client = _client(getattr(people, role))
    detail = client.get(f"/api/v1/students/{people.child.pk}/").json()
    assert detail["priority_categories"] == ["disabled"]
    application = client.get(f"/api/v1/applications/{served['application'].pk}/").json()
    assert application["priority_claims"] == ["dual_working"]
    assert application["is_priority"] is True
    assert application["evidence"] == [{
        "id": served["evidence"].pk, "code": "dual_working", "size": 4,
        "uploaded_at": application["evidence"][0]["uploaded_at"], "verified_at": None,
        "url": f"/enrollment/evidence/{served['evidence'].pk}/"}]


@pytest.mark.parametrize("role", ("teacher", "finance", "officer"))
def test_the_student_api_gives_others_null_categories(people, served, role):
    client = _client(getattr(people, role))
    detail = client.get(f"/api/v1/students/{people.child.pk}/").json()
    assert "priority_categories" in detail and detail["priority_categories"] is None
    listed = {s["id"]: s for s in client.get("/api/v1/students/").json()["results"]}
    assert listed[people.child.pk]["priority_categories"] is None
    assert all(s["priority_categories"] is None for s in listed.values())


def test_a_guardian_sees_their_own_childs_categories_and_no_one_elses(people, served):
    Student.objects.filter(pk=people.other_child.pk).update(priority_categories=["migrant"])
    page = _client(people.parent).get(f"/roster/students/{people.child.pk}/")
    assert 'tag-ok">残疾儿童<' in page.content.decode()
    assert _client(people.parent).get(
        f"/api/v1/students/{people.child.pk}/").json()["priority_categories"] == ["disabled"]
    listed = _client(people.parent2).get("/api/v1/students/").json()["results"]
    assert [(s["id"], s["priority_categories"]) for s in listed] == [
        (people.other_child.pk, ["migrant"])]


@pytest.mark.parametrize("role, shown", [
    ("homeroom_teacher", True), ("principal", True), ("office", True),
    ("teacher", False), ("finance", False), ("officer", False),
])
def test_the_student_and_homeroom_pages_show_categories_only_to_those_who_decide(
        people, served, role, shown):
    client = _client(getattr(people, role))
    student_page = client.get(f"/roster/students/{people.child.pk}/").content.decode()
    assert ('tag-ok">残疾儿童<' in student_page) is shown
    if role != "teacher":  # a serving teacher has no homeroom pages
        homeroom_page = client.get(f"/roster/homerooms/{people.homeroom.pk}/").content.decode()
        assert people.child.name in homeroom_page
        assert ('tag-ok">优先保障<' in homeroom_page) is shown


@pytest.mark.parametrize("role", ("teacher", "principal"))
def test_the_temporary_class_list_prints_no_priority(people, served, role):
    assert Placement.objects.get(temporary_class=served["class"], student=people.child).priority
    page = _client(getattr(people, role)).get(f"/scheduling/classes/{served['class'].pk}/")
    assert page.status_code == 200 and people.child.name in page.content.decode()
    assert 'tag-ok">优先<' not in page.content.decode()


def test_the_temporary_class_api_carries_no_priority(people, served):
    body = _client(people.teacher).get(
        f"/api/v1/temporary-classes/{served['class'].pk}/").json()
    assert people.child.pk in body["members"]
    assert "priority" not in str(body)


# --- Evidence files: private, served by a view that checks who asks (item 11) ---------------

@pytest.mark.parametrize("role", ("parent", "homeroom_teacher", "principal", "office"))
def test_the_guardian_the_homeroom_teacher_and_the_school_download_the_evidence(
        people, served, role):
    evidence = served["evidence"]
    response = _client(getattr(people, role)).get(f"/enrollment/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == _png()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("role", OTHERS)
def test_nobody_else_downloads_the_evidence(people, served, role):
    response = _client(getattr(people, role)).get(
        f"/enrollment/evidence/{served['evidence'].pk}/")
    assert response.status_code == 404


def test_an_anonymous_visitor_is_sent_to_the_login(served):
    response = _client().get(f"/enrollment/evidence/{served['evidence'].pk}/")
    assert response.status_code == 302
    assert response.url.startswith(resolve_url(settings.LOGIN_URL))


def test_the_application_page_links_the_evidence_through_the_view(people, served):
    page = _client(people.principal).get(f"/enrollment/applications/{served['application'].pk}/")
    assert f'href="/enrollment/evidence/{served["evidence"].pk}/"' in page.content.decode()
    assert served["evidence"].file.name not in page.content.decode()


@pytest.fixture
def uploaded(cast, plan, api, media_roots):
    """Evidence uploaded through the API under the name the guardian's phone gave it."""
    slots = list(cast.term.slots.filter(kind="afternoon").values_list("pk", flat=True))
    upload = SimpleUploadedFile("张小明残疾证.png", _png(), content_type="image/png")
    response = api(cast.parent).post("/api/v1/applications/", {
        "student": cast.child.pk, "term": cast.term.pk, "slots": slots,
        "priority_claims": ["disabled"], "agreement_version": plan.version,
        "signed_name": "张伟", "evidence": [upload], "evidence_codes": ["disabled"]},
        format="multipart")
    assert response.status_code == 201, response.content
    return ClaimEvidence.objects.get()


def test_the_stored_name_is_random_and_private(uploaded, media_roots):
    name = uploaded.file.name
    assert re.fullmatch(r"evidence/[0-9a-f]{32}\.png", name), name
    assert "张小明" not in name and "残疾证" not in name
    assert (media_roots / "private" / name).read_bytes() == _png()
    assert not (media_roots / "media").exists()
    with pytest.raises(ValueError):
        uploaded.file.url  # noqa: B018 - the private storage has no address


def _reload_urlconf():
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()


def test_media_url_serves_no_evidence_even_in_debug(uploaded):
    """The demo runs with DEBUG on, where the URLconf once served MEDIA_ROOT at /media/."""
    try:
        with override_settings(DEBUG=True):
            _reload_urlconf()
            response = Client().get(f"/media/{uploaded.file.name}")
    finally:
        _reload_urlconf()
    assert response.status_code == 404


# --- Evidence uploaded before: moved to the private storage (migration 0004) ----------------

def test_the_migration_moves_earlier_evidence_to_private_random_names(
        people, served, media_roots, django_capture_on_commit_callbacks):
    from django.apps import apps

    migration = importlib.import_module(
        "enrollment.migrations.0004_move_evidence_to_private_storage")
    legacy = media_roots / "media" / "evidence" / "2026" / "11" / "张小明户口本.jpg"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"\xff\xd8\xff\xe0 a photo")
    ClaimEvidence.objects.filter(pk=served["evidence"].pk).update(
        file="evidence/2026/11/张小明户口本.jpg")
    private = ClaimEvidence.objects.create(
        application=served["application"], code="dual_working", content_type="image/png",
        size=4, file=SimpleUploadedFile("b.png", _png()))
    gone = ClaimEvidence.objects.create(
        application=served["application"], code="dual_working", content_type="image/png",
        size=4, file="evidence/2026/11/gone.png")

    editor = type("Editor", (), {"connection": connection})()
    with django_capture_on_commit_callbacks(execute=True):
        migration.to_private(apps, editor)

    moved = ClaimEvidence.objects.get(pk=served["evidence"].pk)
    assert re.fullmatch(r"evidence/[0-9a-f]{32}\.jpg", moved.file.name), moved.file.name
    assert (media_roots / "private" / moved.file.name).read_bytes() == b"\xff\xd8\xff\xe0 a photo"
    assert not legacy.exists()
    assert ClaimEvidence.objects.get(pk=private.pk).file.name == private.file.name
    assert ClaimEvidence.objects.get(pk=gone.pk).file.name == "evidence/2026/11/gone.png"
    client = _client(people.principal)
    response = client.get(f"/enrollment/evidence/{moved.pk}/")
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff\xe0 a photo"
    assert client.get(f"/enrollment/evidence/{gone.pk}/").status_code == 404
