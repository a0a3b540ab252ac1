"""What /api/v1/schema/ states, for a few representative operations: the error statuses of
API.md with their body, the query filters as schools.params reads them, list and text limits,
one format for datetimes and times of day. tests/test_schema_fuzz.py holds the API to it."""

import datetime
import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from enrollment.models import Application
from tests.scheduling.conftest import activities, monday, teachers  # noqa: F401

pytestmark = pytest.mark.django_db

RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$")


@pytest.fixture
def schema():
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _component(schema, ref: dict) -> dict:
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def _body(schema, path: str, method: str = "post") -> dict:
    content = schema["paths"][path][method]["requestBody"]["content"]
    return _component(schema, content["application/json"]["schema"])


def _error_ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"]


def test_a_write_documents_every_error_api_md_names(schema):
    responses = schema["paths"]["/api/v1/applications/"]["post"]["responses"]
    assert set(responses) == {"201", "400", "401", "403", "404", "409", "413", "415"}
    assert _error_ref(responses["400"]) == "#/components/schemas/ValidationError"
    for status in ("401", "403", "404", "409", "413", "415"):
        assert _error_ref(responses[status]) == "#/components/schemas/Error", status
    assert "already_open" in responses["409"]["description"]
    assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True

    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}
    either = schema["components"]["schemas"]["ValidationError"]["anyOf"]
    assert {"$ref": "#/components/schemas/FieldErrors"} in either


def test_a_plain_read_documents_only_what_it_can_answer(schema):
    assert set(schema["paths"]["/api/v1/me/"]["get"]["responses"]) == {"200", "401"}
    detail = schema["paths"]["/api/v1/menus/{id}/"]["get"]["responses"]
    assert set(detail) == {"200", "401", "404"}


def test_the_token_endpoint_is_open_and_documents_its_throttle(schema):
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert {} in operation["security"]
    assert "401" not in operation["responses"] and "404" not in operation["responses"]
    assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    token = _component(schema, operation["responses"]["200"]["content"]["application/json"]
                       ["schema"])
    assert set(token["properties"]) == {"token"}


def test_list_filters_are_typed_with_their_choices(schema):
    parameters = {p["name"]: p["schema"]
                  for p in schema["paths"]["/api/v1/applications/"]["get"]["parameters"]}
    assert parameters["status"] == {"type": "string", "enum": list(Application.Status.values)}
    assert parameters["term"] == {"type": "integer", "minimum": 0,
                                  "maximum": 999_999_999_999_999_999}
    menus = {p["name"]: p["schema"]
             for p in schema["paths"]["/api/v1/menus/"]["get"]["parameters"]}
    assert menus["week"] == {"type": "string", "format": "date"}
    students = {p["name"] for p in schema["paths"]["/api/v1/students/"]["get"]["parameters"]}
    assert students == {"page", "school", "homeroom", "grade"}
    unread = schema["paths"]["/api/v1/notifications/"]["get"]["parameters"]
    assert {"name": "unread", "type": "boolean"} in [
        {"name": p["name"], "type": p["schema"]["type"]} for p in unread]
    assert "400" in schema["paths"]["/api/v1/applications/"]["get"]["responses"]


def test_request_bodies_state_their_limits(schema):
    application = _body(schema, "/api/v1/applications/")
    assert {"student", "term", "slots", "agreement_version", "signed_name"} <= set(
        application["required"])
    slots = application["properties"]["slots"]
    assert (slots["minItems"], slots["maxItems"]) == (1, 20)
    assert application["properties"]["priority_claims"]["maxItems"] == 10
    assert application["properties"]["signed_name"]["maxLength"] == 50
    assert application["properties"]["signed_name"]["minLength"] == 1
    evidence = schema["paths"]["/api/v1/applications/"]["post"]["requestBody"]["content"]
    multipart = _component(schema, evidence["multipart/form-data"]["schema"])
    assert multipart["properties"]["evidence"]["items"]["format"] == "binary"
    assert _body(schema, "/api/v1/applications/bulk-review/")["properties"]["ids"][
        "maxItems"] == 5000
    assert _body(schema, "/api/v1/menus/{id}/choices/")["properties"]["ranked"][
        "maxItems"] == 9
    assert _body(schema, "/api/v1/applications/{id}/review/")["properties"]["reason"][
        "maxLength"] == 500


def test_the_schema_and_the_api_write_one_time_format(schema, cast, api):
    slot = schema["components"]["schemas"]["ServiceSlot"]["properties"]["start"]
    assert slot["pattern"] == r"^([01][0-9]|2[0-3]):[0-5][0-9]$" and "format" not in slot
    item = schema["components"]["schemas"]["MenuItemOutput"]["properties"]["start"]
    assert item["pattern"] == slot["pattern"]
    assert schema["components"]["schemas"]["MenuOutput"]["properties"]["choice_deadline"][
        "format"] == "date-time"

    term = api(cast.principal).get(f"/api/v1/terms/{cast.term.pk}/").json()
    assert all(re.fullmatch(slot["pattern"], s["start"]) for s in term["slots"])
    from notifications.services import notify

    notify(recipient=cast.parent, purpose="test.schema", dedupe_key="test.schema",
           subject="测试", body="测试", channels=["in_app"])
    [notice] = api(cast.parent).get("/api/v1/notifications/").json()["results"]
    assert RFC_3339.match(notice["created_at"]), notice["created_at"]


def test_a_time_of_day_is_hh_mm_and_an_offset_is_refused(cast, activities, monday,  # noqa: F811
                                                          api):
    client = api(cast.principal)
    week = (monday + datetime.timedelta(days=7)).isoformat()
    menu = client.post("/api/v1/menus/", {"school": cast.school.pk, "week": week},
                       format="json").json()
    body = {"activity": activities.sports.pk, "start": "16:30+08:00",
            "slot": cast.term.slots.get(kind="afternoon", weekday=1).pk}
    refused = client.post(f"/api/v1/menus/{menu['id']}/items/", body, format="json")
    assert refused.status_code == 400 and "start" in refused.json(), refused.content
    body["start"] = "16:30:00"
    added = client.post(f"/api/v1/menus/{menu['id']}/items/", body, format="json")
    assert added.status_code == 201, added.content
    assert (added.json()["start"], added.json()["end"]) == ("16:30", "18:00")


def test_the_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", validate=True, fail_on_warn=True,
                 file=str(tmp_path / "schema.yaml"))
