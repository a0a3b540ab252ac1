"""Each role × each roster endpoint × own and other scope. The expectations are written out by
hand from the policy of DESIGN.md ("guardian → own children; teacher → own classes; principal →
own school; district → own district"), not derived from the selectors under test."""

import pytest

USERS = ["parent", "parent2", "homeroom", "homeroom2", "teacher", "principal", "principal2",
         "finance", "district", "district2"]

SCHOOL_A_STAFF = {"principal", "finance"}

# endpoint → object (a cast attribute) → who may see it. Everyone else gets 404.
MATRIX = {
    "students": {
        "child": {"parent", "homeroom", *SCHOOL_A_STAFF, "district"},
        "other_child": {"parent2", "homeroom2", *SCHOOL_A_STAFF, "district"},
        "other_school_child": {"principal2", "district"},
        "far_child": {"district2"},
    },
    "homerooms": {
        "homeroom": {"parent", "homeroom", *SCHOOL_A_STAFF, "district"},
        "homeroom2": {"parent", "parent2", "homeroom2", *SCHOOL_A_STAFF, "district"},
        "other_homeroom": {"principal2", "district"},
        "far_homeroom": {"district2"},
    },
    "schools": {
        "school": {"parent", "parent2", "homeroom", "homeroom2", "teacher", *SCHOOL_A_STAFF,
                   "district"},
        "other_school": {"principal2", "district"},
        "far_school": {"district2"},
    },
    "terms": {
        "term": {"parent", "parent2", "homeroom", "homeroom2", "teacher", *SCHOOL_A_STAFF,
                 "district"},
        "other_term": {"principal2", "district"},
        "far_term": {"district2"},
    },
    # District officers see no guardian contacts (PIPL minimisation).
    "guardians": {
        "guardian": {"parent", "homeroom", "homeroom2", *SCHOOL_A_STAFF},
        "guardian2": {"parent2", "homeroom2", *SCHOOL_A_STAFF},
    },
    "staff": {
        "head_staff": {"homeroom", *SCHOOL_A_STAFF, "district"},
        "other_school_staff": {"principal2", "district"},
    },
}


@pytest.fixture
def world(cast):
    from tests import factories as f

    cast.head_staff = cast.homeroom.head_teacher
    cast.other_school_staff = f.StaffFactory(school=cast.other_school, user=None,
                                             name="外校教师")
    cast.users = {u.username: u for u in [
        cast.parent, cast.parent2, cast.homeroom_teacher, cast.homeroom_teacher2, cast.teacher,
        cast.principal, cast.principal2, cast.finance, cast.officer, cast.officer2]}
    return cast


CASES = [(endpoint, obj, username) for endpoint, objects in MATRIX.items()
         for obj in objects for username in USERS]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint,obj,username", CASES,
                         ids=[f"{e}-{o}-{u}" for e, o, u in CASES])
def test_role_matrix(world, api, endpoint, obj, username):
    target = getattr(world, obj)
    client = api(world.users[username])
    allowed = username in MATRIX[endpoint][obj]

    detail = client.get(f"/api/v1/{endpoint}/{target.pk}/")
    assert detail.status_code == (200 if allowed else 404), detail.content
    if allowed:
        assert detail.json()["id"] == target.pk

    listed = client.get(f"/api/v1/{endpoint}/", {"page_size": 500})
    assert listed.status_code == 200
    ids = {row["id"] for row in listed.json()["results"]}
    assert (target.pk in ids) == allowed


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_anonymous_is_refused(cast, api, endpoint):
    assert api().get(f"/api/v1/{endpoint}/").status_code == 401
