"""One way to read query parameters: every list endpoint and page answers a malformed filter
with a 400 naming the parameter — not a silent empty list, not a 500."""

import pytest

# The enrollment fixtures: an approved enrolment to filter for.
from tests.enrollment.conftest import (  # noqa: F401
    apply_for,
    class_approved,
    enrolment,
    plan,
    submitted,
)

pytestmark = pytest.mark.django_db

# (who asks, list endpoint, parameter, bad values)
API_FILTERS = [
    ("principal", "/api/v1/applications/", "term", ["abc", "²", "1.5", "9" * 30]),
    ("principal", "/api/v1/applications/", "status", ["%00", "bogus", "SUBMITTED"]),
    ("principal", "/api/v1/enrolments/", "term", ["abc", "٣"]),
    ("principal", "/api/v1/menus/", "school", ["abc", "²"]),
    ("principal", "/api/v1/menus/", "week", ["notadate", "2026-13-01", "２０２６-01-05"]),
    ("principal", "/api/v1/temporary-classes/", "menu", ["x", "²"]),
    ("principal", "/api/v1/temporary-classes/", "slot", ["-1"]),
    ("principal", "/api/v1/students/", "school", ["abc", "²"]),
    ("principal", "/api/v1/students/", "grade", ["三"]),
    ("principal", "/api/v1/terms/", "school", ["1e3"]),
    ("officer", "/api/v1/schools/", "district", ["abc"]),
    ("principal", "/api/v1/homerooms/", "grade", ["abc"]),
    ("principal", "/api/v1/staff/", "school", ["abc"]),
    ("parent", "/api/v1/notifications/", "unread", ["maybe"]),
]

PAGE_FILTERS = [
    ("principal", "/enrollment/decide/", "term", ["abc", "²"]),
    ("principal", "/enrollment/decide/", "status", ["%00", "bogus"]),
    ("homeroom_teacher", "/enrollment/review/", "term", ["abc"]),
    ("principal", "/roster/homerooms/", "school", ["²", "abc"]),
    ("principal", "/roster/import/", "school", ["²"]),
    ("parent", "/scheduling/students/{child}/week/", "week", ["notadate"]),
    ("teacher", "/scheduling/teachers/week/", "week", ["2026-02-30"]),
    ("principal", "/scheduling/rooms/week/", "room", ["%00"]),
]


def _query(param: str, value: str) -> str:
    # Values written with % are already encoded (a NUL byte); the rest are sent as they are.
    return f"{param}={value}"


@pytest.mark.parametrize(("who", "url", "param", "values"), API_FILTERS)
def test_a_malformed_api_filter_is_a_400_naming_it(cast, api, who, url, param, values):
    client = api(getattr(cast, who))
    for value in values:
        response = client.get(f"{url}?{_query(param, value)}")
        assert response.status_code == 400, (url, param, value, response.status_code)
        assert param in response.json(), (url, param, value, response.json())


@pytest.mark.parametrize(("who", "url", "param", "values"), PAGE_FILTERS)
def test_a_malformed_page_filter_is_a_400_page_naming_it(cast, client, who, url, param,
                                                       values):
    client.force_login(getattr(cast, who))
    url = url.format(child=cast.child.pk)
    for value in values:
        response = client.get(f"{url}?{_query(param, value)}")
        assert response.status_code == 400, (url, param, value, response.status_code)
        assert param in response.content.decode(), (url, param, value)


def test_well_formed_filters_still_filter(cast, api, enrolment):  # noqa: F811
    client = api(cast.principal)

    def names(url: str) -> set[str]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        return {row["name"] for row in response.json()["results"]}

    assert cast.child.name in names(f"/api/v1/students/?school={cast.school.pk}&grade=3")
    assert cast.child.name not in names(f"/api/v1/students/?school={cast.school.pk}&grade=4")
    # An empty value is no filter; a valid one filters.
    everyone = client.get("/api/v1/enrolments/?term=").json()["results"]
    assert [e["id"] for e in everyone] == [enrolment.pk]
    assert client.get(f"/api/v1/enrolments/?term={cast.other_term.pk}").json()["results"] == []
    assert client.get("/api/v1/applications/?status=approved").json()["results"]
    assert client.get("/api/v1/applications/?status=returned").json()["results"] == []


def test_marking_read_with_a_unicode_digit_is_a_400(cast, client):
    client.force_login(cast.parent)
    response = client.post("/notifications/read/", {"id": ["²"]})
    assert response.status_code == 400
