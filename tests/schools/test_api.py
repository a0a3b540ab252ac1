import pytest

pytestmark = pytest.mark.django_db


def test_me_lists_roles_and_children(cast, api):
    body = api(cast.parent).get("/api/v1/me/").json()
    assert body["username"] == "parent"
    assert body["roles"] == [{"role": "guardian", "school": cast.school.pk,
                              "district": cast.district.pk}]
    assert [c["id"] for c in body["children"]] == [cast.child.pk, cast.sibling.pk] or \
        {c["id"] for c in body["children"]} == {cast.child.pk, cast.sibling.pk}
    child = next(c for c in body["children"] if c["id"] == cast.child.pk)
    assert child["grade"] == 3 and child["school"] == cast.school.pk
    assert child["homeroom"] == cast.homeroom.pk


def test_me_for_a_principal_has_the_school_role(cast, api):
    body = api(cast.principal).get("/api/v1/me/").json()
    assert body["roles"] == [{"role": "principal", "school": cast.school.pk, "district": None}]
    assert body["children"] == []


def test_terms_list_slots_with_api_fields(cast, api):
    body = api(cast.parent).get("/api/v1/terms/", {"school": cast.school.pk}).json()
    assert body["count"] == 1
    term = body["results"][0]
    noon = next(s for s in term["slots"] if s["kind"] == "noon" and s["weekday"] == 1)
    assert noon["start"] == "11:40" and noon["end"] == "14:10"
    assert noon["class_hours"] == "2.0"
    assert {s["weekday"] for s in term["slots"]} == {1, 2, 3, 4, 5}


def test_terms_of_another_school_filter_to_nothing(cast, api):
    body = api(cast.parent).get("/api/v1/terms/", {"school": cast.other_school.pk}).json()
    assert body["count"] == 0


def test_a_bad_filter_is_a_400_naming_the_field(cast, api):
    response = api(cast.principal).get("/api/v1/students/", {"school": "abc"})
    assert response.status_code == 400
    assert "school" in response.json()


def test_lists_are_paginated(cast, api):
    body = api(cast.principal).get("/api/v1/students/").json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 3


def test_token_auth(cast, api):
    from tests.factories import PASSWORD

    bad = api().post("/api/v1/auth/token/", {"username": "parent", "password": "nope"})
    assert bad.status_code == 400
    good = api().post("/api/v1/auth/token/", {"username": "parent", "password": PASSWORD})
    assert good.status_code == 200
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {good.json()['token']}")
    assert client.get("/api/v1/me/").json()["username"] == "parent"


def test_messages_follow_accept_language(cast, api):
    zh = api().get("/api/v1/me/")
    en = api().get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.status_code == 401
    assert zh.json()["detail"] != en.json()["detail"]


def test_schema_and_docs_are_served(cast, client):
    client.force_login(cast.principal)
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200


def test_student_history_is_for_staff_only(cast, api):
    from schools.audit import audit_record

    audit_record(actor=cast.principal, action="schools.student.updated", obj=cast.child,
                 school=cast.school,
                 data={"field": "homeroom"})
    staff = api(cast.homeroom_teacher).get(f"/api/v1/students/{cast.child.pk}/history/")
    assert staff.status_code == 200
    assert staff.json()["results"][0]["action"] == "schools.student.updated"
    assert api(cast.parent).get(f"/api/v1/students/{cast.child.pk}/history/").status_code == 404
    assert api(cast.principal2).get(
        f"/api/v1/students/{cast.child.pk}/history/").status_code == 404


def test_student_list_pins_its_queries(cast, api, django_assert_max_num_queries):
    from tests import factories as f

    for _ in range(20):
        f.StudentFactory(school=cast.school, homeroom=cast.homeroom)
    client = api(cast.principal)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/students/").json()["count"] == 23
