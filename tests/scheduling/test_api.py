"""Every row of API.md's Scheduling table, and the other endpoints of scheduling/api_urls.py
(menu detail and creation, items, moves and swaps), allowed and denied, with what the database
holds afterwards."""

import datetime

import pytest
from django.db.models import Count

from notifications.models import Notification
from scheduling import services
from scheduling.models import AllocationRun, Choice, Menu, MenuItem, Placement, TemporaryClass
from schools.models import AuditEntry
from tests.scheduling.conftest import SEED, afternoon, class_of, close_choices, item_of

pytestmark = pytest.mark.django_db

ITEM_FIELDS = {"id", "activity", "slot", "teacher", "room", "grades", "capacity", "seats_left"}
CLASS_FIELDS = {"id", "name", "slot", "cap", "head_teacher", "room", "members"}
STATS = {"placed", "first_choice", "second_choice", "third_choice", "unplaced",
         "priority_unplaced", "classes"}


def _menus(client, **params) -> list[dict]:
    response = client.get("/api/v1/menus/", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _audited(action: str, obj) -> bool:
    return AuditEntry.objects.filter(action=action, object_id=str(obj.pk)).exists()


# --- GET /api/v1/menus/?school=&week= --------------------------------------------------------

def test_principal_lists_the_weeks_menu_with_its_items(cast, menu, activities, api):
    results = _menus(api(cast.principal), school=cast.school.pk, week=menu.week.isoformat())
    assert len(results) == 1
    body = results[0]
    assert body["id"] == menu.pk
    assert body["week"] == menu.week.isoformat()
    assert body["status"] == "draft"
    assert datetime.datetime.fromisoformat(body["choice_deadline"]) == menu.choice_deadline
    assert len(body["items"]) == 20
    assert all(ITEM_FIELDS <= set(i) for i in body["items"])
    monday = afternoon(cast.term, 1)
    by_activity = {i["activity"]: i for i in body["items"] if i["slot"] == monday.pk}
    sports = by_activity[activities.sports.pk]
    assert sports["id"] == item_of(menu, activities.sports, 1).pk
    assert (sports["teacher"], sports["room"], sports["grades"]) == ("孙老师", "操场", [3])
    assert sports["capacity"] == 20 and sports["seats_left"] == 20
    assert by_activity[activities.arts.pk]["seats_left"] == 1
    assert by_activity[activities.reading.pk]["grades"] == [1, 3]


def test_a_guardian_does_not_see_a_draft_menu(cast, menu, enrolled, api):
    client = api(cast.parent)
    assert _menus(client, school=cast.school.pk, week=menu.week.isoformat()) == []
    assert client.get(f"/api/v1/menus/{menu.pk}/").status_code == 404
    services.menu_publish(menu=menu, user=cast.principal, acknowledge_warnings=True)
    results = _menus(client, school=cast.school.pk, week=menu.week.isoformat())
    assert [m["id"] for m in results] == [menu.pk]
    assert results[0]["status"] == "published"
    detail = client.get(f"/api/v1/menus/{menu.pk}/")
    assert detail.status_code == 200 and len(detail.json()["items"]) == 20


def test_another_schools_principal_sees_nothing_of_this_school(cast, published, api):
    client = api(cast.principal2)
    assert _menus(client, school=cast.school.pk) == []
    assert _menus(client, week=published.week.isoformat()) == []
    assert client.get(f"/api/v1/menus/{published.pk}/").status_code == 404
    # The district officer over the school does see it.
    assert [m["id"] for m in _menus(api(cast.officer), school=cast.school.pk)] == [published.pk]
    assert _menus(api(cast.officer2), school=cast.school.pk) == []


@pytest.mark.parametrize("week", ["2026-13-45", "next-monday", "05/01/2026"])
def test_a_bad_week_is_400(cast, menu, api, week):
    response = api(cast.principal).get("/api/v1/menus/", {"school": cast.school.pk,
                                                          "week": week})
    assert response.status_code == 400
    assert "week" in response.json()


def test_a_non_numeric_school_is_a_400_naming_it(cast, menu, api):
    response = api(cast.principal).get("/api/v1/menus/", {"school": "abc"})
    assert response.status_code == 400 and "school" in response.json()


def test_anonymous_callers_are_refused(cast, menu, api):
    assert api(None).get("/api/v1/menus/").status_code == 401
    assert api(None).post(f"/api/v1/menus/{menu.pk}/publish/").status_code == 401


# --- POST /api/v1/menus/ and /api/v1/menus/{id}/items/ ---------------------------------------

def test_principal_creates_a_menu_and_adds_an_item(cast, activities, monday, api):
    client = api(cast.principal)
    week = monday + datetime.timedelta(days=7)
    response = client.post("/api/v1/menus/", {"school": cast.school.pk,
                                              "week": week.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    menu = Menu.objects.get(pk=response.json()["id"])
    assert (menu.school, menu.week, menu.status) == (cast.school, week, "draft")
    assert _audited("scheduling.menu.created", menu)
    again = client.post("/api/v1/menus/", {"school": cast.school.pk, "week": week.isoformat()},
                        format="json")
    assert again.status_code == 409 and again.json()["code"] == "menu_exists"
    tuesday = client.post("/api/v1/menus/", {"school": cast.school.pk,
                                             "week": (week + datetime.timedelta(days=1))
                                             .isoformat()}, format="json")
    assert tuesday.status_code == 400 and "week" in tuesday.json()

    response = client.post(f"/api/v1/menus/{menu.pk}/items/",
                           {"activity": activities.sports.pk,
                            "slot": afternoon(cast.term, 2).pk, "capacity": 30},
                           format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert ITEM_FIELDS <= set(body)
    assert (body["teacher"], body["room"], body["capacity"], body["seats_left"]) == (
        "孙老师", "操场", 30, 30)
    item = MenuItem.objects.get(pk=body["id"])
    assert (item.menu, item.start, item.end) == (menu, datetime.time(16, 20),
                                                 datetime.time(18, 0))


def test_others_cannot_create_menus_or_add_items(cast, menu, activities, monday, api):
    week = (monday + datetime.timedelta(days=7)).isoformat()
    for user in (cast.principal2, cast.parent):
        response = api(user).post("/api/v1/menus/", {"school": cast.school.pk, "week": week},
                                  format="json")
        assert response.status_code == 404
        response = api(user).post(f"/api/v1/menus/{menu.pk}/items/",
                                  {"activity": activities.sports.pk,
                                   "slot": cast.term.slots.get(kind="noon", weekday=1).pk},
                                  format="json")
        assert response.status_code == 404
    assert Menu.objects.count() == 1 and menu.items.count() == 20


# --- POST /api/v1/menus/{id}/publish/ --------------------------------------------------------

def test_principal_publishes_the_menu(cast, menu, enrolled, api):
    response = api(cast.principal).post(f"/api/v1/menus/{menu.pk}/publish/",
                                        {"acknowledge_warnings": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    menu.refresh_from_db()
    assert (menu.status, menu.version, menu.published_by) == ("published", 1, cast.principal)
    assert menu.published_at is not None
    assert _audited("scheduling.menu.published", menu)


def test_guardians_of_enrolled_children_are_told(cast, menu, enrolled, api):
    response = api(cast.principal).post(f"/api/v1/menus/{menu.pk}/publish/",
                                        {"acknowledge_warnings": True}, format="json")
    assert response.status_code == 200
    notices = Notification.objects.filter(purpose="scheduling.menu_published",
                                          channel=Notification.Channel.IN_APP)
    assert sorted(n.recipient.username for n in notices) == ["parent", "parent2"]
    assert all(n.payload == {"menu": menu.pk, "version": 1} for n in notices)


def test_only_the_schools_principal_publishes(cast, menu, enrolled, api):
    url = f"/api/v1/menus/{menu.pk}/publish/"
    body = {"acknowledge_warnings": True}
    assert api(cast.principal2).post(url, body, format="json").status_code == 404
    assert api(cast.parent).post(url, body, format="json").status_code == 404
    assert api(cast.homeroom_teacher).post(url, body, format="json").status_code == 404
    menu.refresh_from_db()
    assert (menu.status, menu.version) == ("draft", 0)
    assert not Notification.objects.filter(purpose="scheduling.menu_published").exists()


def test_a_published_menu_cannot_be_published_again(cast, published, api):
    response = api(cast.principal).post(f"/api/v1/menus/{published.pk}/publish/",
                                        {"acknowledge_warnings": True}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_menu_breaking_the_policy_checks_is_409_naming_every_problem(
        cast, activities, teachers, monday, api):
    cast.school.temp_class_cap = 40
    cast.school.save(update_fields=["temp_class_cap"])
    client = api(cast.principal)
    response = client.post("/api/v1/menus/", {
        "school": cast.school.pk, "week": (monday + datetime.timedelta(days=7)).isoformat()},
        format="json")
    assert response.status_code == 201, response.content
    menu_id = response.json()["id"]

    def add(weekday, activity, **extra):
        response = client.post(f"/api/v1/menus/{menu_id}/items/", {
            "activity": activity.pk, "slot": afternoon(cast.term, weekday).pk, **extra},
            format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    late = add(1, activities.sports, end="18:30")  # after the school's 18:00
    teacher_a = add(2, activities.reading)
    teacher_b = add(2, activities.sports, teacher=teachers.reading.pk)  # same teacher
    room_a = add(3, activities.reading)
    room_b = add(3, activities.arts, room="图书室")  # same room
    big = add(4, activities.sports, capacity=45)  # above the cap of 40
    wide = add(5, activities.sports, grades=[1, 3])  # basketball is for grade 3 only

    response = client.post(f"/api/v1/menus/{menu_id}/publish/",
                           {"acknowledge_warnings": True}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "policy_check_failed"
    problems = {p["code"]: p for p in body["problems"]}
    assert len(body["problems"]) == 5
    assert set(problems) == {"end_time", "teacher_double_booked", "room_double_booked",
                             "capacity", "grade"}
    assert problems["end_time"]["items"] == [late]
    assert sorted(problems["teacher_double_booked"]["items"]) == sorted([teacher_a, teacher_b])
    assert sorted(problems["room_double_booked"]["items"]) == sorted([room_a, room_b])
    assert problems["capacity"]["items"] == [big]
    assert problems["grade"]["items"] == [wide]
    assert all(p["message"] for p in body["problems"])
    menu = Menu.objects.get(pk=menu_id)
    assert (menu.status, menu.version) == ("draft", 0)
    assert not _audited("scheduling.menu.published", menu)


def test_warnings_must_be_acknowledged_before_publication(cast, menu, enrolled, api):
    homework = services.activity_create(
        school=cast.school, user=cast.principal, name="作业辅导", category="homework",
        grades=[1, 3], capacity=30, room="三年级教室")
    services.menu_item_add(menu=menu, user=cast.principal, activity=homework,
                           slot=afternoon(cast.term, 1))
    url = f"/api/v1/menus/{menu.pk}/publish/"
    response = api(cast.principal).post(url, {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "warnings_unacknowledged"
    assert body["problems"] == []
    codes = [w["code"] for w in body["warnings"]]
    assert sorted(set(codes)) == ["homework_lower_grades", "short_day"]
    assert codes.count("short_day") == 5  # 16:20–18:00 is 100 minutes, every weekday
    assert Menu.objects.get(pk=menu.pk).status == "draft"
    assert not Notification.objects.filter(purpose="scheduling.menu_published").exists()

    response = api(cast.principal).post(url, {"acknowledge_warnings": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    menu.refresh_from_db()
    assert menu.status == "published"
    assert sorted(w["code"] for w in menu.acknowledged_warnings) == sorted(codes)


# --- POST /api/v1/menus/{id}/choices/ --------------------------------------------------------

def _choose(api, user, menu, student, weekday, *items, slot=None):
    slot = slot or afternoon(menu.term, weekday)
    return api(user).post(f"/api/v1/menus/{menu.pk}/choices/", {
        "student": student.pk, "slot": slot.pk, "ranked": [i.pk for i in items]},
        format="json")


def test_guardian_ranks_choices(cast, published, activities, api):
    ranked = [item_of(published, a, 2)
              for a in (activities.arts, activities.sports, activities.reading)]
    response = _choose(api, cast.parent, published, cast.child, 2, *ranked)
    assert response.status_code == 201, response.content
    assert response.json() == {"student": cast.child.pk, "slot": afternoon(cast.term, 2).pk,
                               "ranked": [i.pk for i in ranked]}
    rows = Choice.objects.filter(menu=published, student=cast.child).order_by("rank")
    assert [(c.rank, c.item_id, c.chosen_by) for c in rows] == [
        (1, ranked[0].pk, cast.parent), (2, ranked[1].pk, cast.parent),
        (3, ranked[2].pk, cast.parent)]
    assert _audited("scheduling.choices.set", cast.child)

    # Sent again, the ranking replaces the first one.
    response = _choose(api, cast.parent, published, cast.child, 2, ranked[2])
    assert response.status_code == 201
    assert list(Choice.objects.filter(menu=published, student=cast.child)
                .values_list("rank", "item_id")) == [(1, ranked[2].pk)]


def test_another_familys_child_is_404(cast, published, activities, api):
    response = _choose(api, cast.parent, published, cast.other_child, 1,
                       item_of(published, activities.sports, 1))
    assert response.status_code == 404
    response = _choose(api, cast.parent2, published, cast.child, 1,
                       item_of(published, activities.sports, 1))
    assert response.status_code == 404
    assert not Choice.objects.exists()


def test_an_item_the_childs_grade_may_not_take_is_400(cast, published, activities, api):
    response = _choose(api, cast.parent, published, cast.child, 1,
                       item_of(published, activities.sports, 1),
                       item_of(published, activities.crafts, 1))  # grade 1 only
    assert response.status_code == 400
    assert "ranked" in response.json()
    assert not Choice.objects.exists()


def test_more_ranks_than_the_school_allows_is_400(cast, published, activities, api):
    cast.school.choices_per_slot = 2
    cast.school.save(update_fields=["choices_per_slot"])
    ranked = [item_of(published, a, 1)
              for a in (activities.arts, activities.sports, activities.reading)]
    response = _choose(api, cast.parent, published, cast.child, 1, *ranked)
    assert response.status_code == 400
    assert "ranked" in response.json()
    assert _choose(api, cast.parent, published, cast.child, 1, *ranked[:2]).status_code == 201
    assert Choice.objects.filter(student=cast.child).count() == 2


def test_an_item_of_another_slot_is_400(cast, published, activities, api):
    response = _choose(api, cast.parent, published, cast.child, 1,
                       item_of(published, activities.sports, 2))
    assert response.status_code == 400 and "ranked" in response.json()


def test_choices_after_the_deadline_are_409(cast, published, activities, api):
    close_choices(published)
    response = _choose(api, cast.parent, published, cast.child, 1,
                       item_of(published, activities.sports, 1))
    assert response.status_code == 409
    assert response.json()["code"] == "deadline_passed"
    assert not Choice.objects.exists()


def test_a_slot_the_child_is_not_enrolled_in_is_400(cast, published, activities, api):
    # other_child is enrolled Monday to Thursday only.
    response = _choose(api, cast.parent2, published, cast.other_child, 5,
                       item_of(published, activities.sports, 5))
    assert response.status_code == 400
    assert "slot" in response.json()
    # ... and in no noon slot at all.
    noon = cast.term.slots.get(kind="noon", weekday=1)
    response = _choose(api, cast.parent, published, cast.child, 1, slot=noon)
    assert response.status_code == 400 and "slot" in response.json()
    assert not Choice.objects.exists()


def test_a_draft_menu_takes_no_choices(cast, menu, enrolled, activities, api):
    response = _choose(api, cast.parent, menu, cast.child, 1,
                       item_of(menu, activities.sports, 1))
    assert response.status_code == 404
    assert not Choice.objects.exists()


# --- POST /api/v1/menus/{id}/allocate/ -------------------------------------------------------

def _allocate(api, user, menu, **body):
    return api(user).post(f"/api/v1/menus/{menu.pk}/allocate/", body, format="json")


def test_principal_allocates_after_the_deadline(cast, monday_choices, enrolled, activities,
                                                api):
    menu = close_choices(monday_choices)
    response = _allocate(api, cast.principal, menu, seed="abc")
    assert response.status_code == 200, response.content
    stats = response.json()
    assert STATS <= set(stats)
    # Monday: other_child, who ranked painting alone, gets its single seat; child and sibling
    # their second choice. The other afternoons nobody ranked: study halls.
    assert {k: stats[k] for k in STATS - {"classes"}} == {
        "placed": 3, "first_choice": 1, "second_choice": 2, "third_choice": 0,
        "unplaced": 0, "priority_unplaced": 0}
    # 20 activity classes, and one study hall on each of Tuesday to Friday (all third-graders).
    assert stats["classes"] == 24 == TemporaryClass.objects.filter(menu=menu).count()

    menu.refresh_from_db()
    assert menu.status == "allocated"
    run = AllocationRun.objects.get(menu=menu)
    assert run.committed and run.seed == "abc"
    assert _audited("scheduling.menu.allocated", menu)

    # Exactly one placement per enrolled child and enrolled afternoon slot.
    for enrolment in (enrolled.child, enrolled.sibling, enrolled.other_child):
        slots = sorted(enrolment.slots.values_list("pk", flat=True))
        placed = sorted(Placement.objects.filter(menu=menu, student=enrolment.student)
                        .values_list("slot_id", flat=True))
        assert placed == slots
    assert Placement.objects.filter(menu=menu).count() == 5 + 5 + 4
    assert class_of(menu, activities.arts, 1).placements.get().student == cast.other_child
    assert class_of(menu, activities.sports, 1).placements.get().student == cast.child
    assert Placement.objects.get(student=cast.sibling, slot__weekday=1).rank == 2
    # No class above its capacity.
    for cls in TemporaryClass.objects.annotate(n=Count("placements")):
        assert cls.n <= cls.capacity <= cast.school.temp_class_cap
    assert Notification.objects.filter(purpose="scheduling.placement",
                                       recipient=cast.parent2).exists()

    # The menu's seats are now taken.
    items = _menus(api(cast.principal), week=menu.week.isoformat())[0]["items"]
    seats = {(i["activity"], i["slot"]): i["seats_left"] for i in items}
    monday = afternoon(cast.term, 1).pk
    assert seats[(activities.arts.pk, monday)] == 0
    assert seats[(activities.sports.pk, monday)] == 19
    assert seats[(activities.reading.pk, monday)] == 19

    again = _allocate(api, cast.principal, menu)
    assert again.status_code == 409


def test_a_priority_child_is_served_before_others(cast, published, activities, api):
    slot = afternoon(cast.term, 1)
    painting = item_of(published, activities.arts, 1)
    for student, user in ((cast.child, cast.parent), (cast.sibling, cast.parent),
                          (cast.other_child, cast.parent2)):
        services.choices_set(menu=published, student=student, slot=slot, items=[painting],
                             user=user)
    close_choices(published)
    for seed in ("s1", "s2", "s3"):
        stats = _allocate(api, cast.principal, published, preview=True, seed=seed).json()
        assert (stats["placed"], stats["first_choice"], stats["unplaced"],
                stats["priority_unplaced"]) == (1, 1, 2, 0)
    assert _allocate(api, cast.principal, published, seed="s1").status_code == 200
    assert class_of(published, activities.arts, 1).placements.get().student == cast.child
    assert Placement.objects.get(student=cast.sibling, slot=slot).temporary_class.kind == (
        "study_hall")


def test_committing_before_the_deadline_is_409(cast, monday_choices, api):
    response = _allocate(api, cast.principal, monday_choices)
    assert response.status_code == 409
    assert response.json()["code"] == "deadline_not_passed"
    assert Menu.objects.get(pk=monday_choices.pk).status == "published"
    assert not TemporaryClass.objects.exists() and not AllocationRun.objects.exists()


def test_a_preview_writes_no_class(cast, monday_choices, api):
    response = _allocate(api, cast.principal, monday_choices, preview=True)
    assert response.status_code == 200, response.content
    stats = response.json()
    assert STATS <= set(stats)
    assert stats["placed"] == 3 and stats["classes"] == 24
    assert not TemporaryClass.objects.exists() and not Placement.objects.exists()
    assert Menu.objects.get(pk=monday_choices.pk).status == "published"
    run = AllocationRun.objects.get()
    assert not run.committed and run.seed == stats["seed"]
    assert _audited("scheduling.menu.previewed", monday_choices)


def test_the_same_seed_gives_the_same_result(cast, monday_choices, api):
    menu = close_choices(monday_choices)
    keys = STATS | {"study_hall", "no_choice", "seed"}
    first = _allocate(api, cast.principal, menu, preview=True, seed="same").json()
    second = _allocate(api, cast.principal, menu, preview=True, seed="same").json()
    assert {k: first[k] for k in keys} == {k: second[k] for k in keys}
    plan_a, plan_b = services.plan_seats(menu, "same"), services.plan_seats(menu, "same")
    assert plan_a.members == plan_b.members
    assert [c.name for c in plan_a.classes] == [c.name for c in plan_b.classes]
    committed = _allocate(api, cast.principal, menu, seed="same").json()
    assert {k: committed[k] for k in keys} == {k: first[k] for k in keys}
    seated = {(p.temporary_class.name, p.student_id)
              for p in Placement.objects.select_related("temporary_class")}
    planned = {(c.name, m["student_id"])
               for c, members in zip(plan_a.classes, plan_a.members, strict=True)
               for m in members}
    assert seated == planned


def test_others_cannot_allocate(cast, monday_choices, api):
    menu = close_choices(monday_choices)
    assert _allocate(api, cast.principal2, menu).status_code == 404
    assert _allocate(api, cast.parent, menu).status_code == 404
    assert _allocate(api, cast.principal2, menu, preview=True).status_code == 404
    assert not AllocationRun.objects.exists()
    assert Menu.objects.get(pk=menu.pk).status == "published"


def test_a_bad_seed_is_400(cast, monday_choices, api):
    response = _allocate(api, cast.principal, monday_choices, preview=True, seed="a b;c")
    assert response.status_code == 400 and "seed" in response.json()


# --- GET /api/v1/temporary-classes/?menu=&slot= and /{id}/ -----------------------------------

def test_principal_lists_a_slots_classes(cast, allocated, activities, api):
    monday = afternoon(cast.term, 1)
    response = api(cast.principal).get("/api/v1/temporary-classes/",
                                       {"menu": allocated.pk, "slot": monday.pk})
    assert response.status_code == 200
    results = response.json()["results"]
    assert response.json()["count"] == 4  # one per activity; everybody got a seat
    assert all(CLASS_FIELDS <= set(c) for c in results)
    assert all(c["slot"] == monday.pk and c["cap"] == 45 for c in results)
    painting = next(c for c in results if c["id"] == class_of(allocated, activities.arts, 1).pk)
    assert painting["members"] == [cast.other_child.pk]
    assert (painting["head_teacher"], painting["room"]) == ("冯老师", "美术室")
    every = api(cast.principal).get("/api/v1/temporary-classes/", {"menu": allocated.pk})
    assert every.json()["count"] == 24
    assert AllocationRun.objects.get(menu=allocated).seed == SEED


def test_class_detail(cast, allocated, activities, api):
    sports = class_of(allocated, activities.sports, 1)
    response = api(cast.principal).get(f"/api/v1/temporary-classes/{sports.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert CLASS_FIELDS <= set(body)
    assert (body["id"], body["name"], body["slot"], body["cap"]) == (
        sports.pk, sports.name, sports.slot_id, 45)
    assert (body["head_teacher"], body["room"]) == ("孙老师", "操场")
    assert body["members"] == [cast.child.pk]


def test_a_guardian_sees_only_classes_of_own_children(cast, allocated, activities, api):
    response = api(cast.parent2).get("/api/v1/temporary-classes/", {"menu": allocated.pk})
    assert response.status_code == 200
    own = set(Placement.objects.filter(student=cast.other_child)
              .values_list("temporary_class_id", flat=True))
    assert len(own) == 4
    assert {c["id"] for c in response.json()["results"]} == own
    sports = class_of(allocated, activities.sports, 1)  # only cast.child sits there
    assert api(cast.parent2).get(f"/api/v1/temporary-classes/{sports.pk}/").status_code == 404
    assert api(cast.parent).get(f"/api/v1/temporary-classes/{sports.pk}/").status_code == 200
    assert {c["id"] for c in api(cast.parent).get("/api/v1/temporary-classes/", {
        "menu": allocated.pk, "slot": sports.slot_id}).json()["results"]} == {
        sports.pk, class_of(allocated, activities.reading, 1).pk}


def test_another_schools_principal_gets_404_on_a_class(cast, allocated, activities, api):
    painting = class_of(allocated, activities.arts, 1)
    client = api(cast.principal2)
    assert client.get(f"/api/v1/temporary-classes/{painting.pk}/").status_code == 404
    listed = client.get("/api/v1/temporary-classes/", {"menu": allocated.pk})
    assert listed.status_code == 200 and listed.json()["count"] == 0


# --- POST /api/v1/temporary-classes/{id}/members/ --------------------------------------------

def _add(api, user, cls, student):
    return api(user).post(f"/api/v1/temporary-classes/{cls.pk}/members/",
                          {"student": student.pk}, format="json")


def test_principal_adds_a_late_joiner(cast, allocated, activities, late_joiners, api):
    newcomer = late_joiners(1)[0]
    sports = class_of(allocated, activities.sports, 1)
    response = _add(api, cast.principal, sports, newcomer)
    assert response.status_code == 201, response.content
    body = response.json()
    assert CLASS_FIELDS <= set(body)
    assert sorted(body["members"]) == sorted([cast.child.pk, newcomer.pk])
    placement = Placement.objects.get(student=newcomer)
    assert (placement.temporary_class, placement.source, placement.slot) == (
        sports, "manual", sports.slot)
    assert _audited("scheduling.placement.added", placement)
    assert Notification.objects.filter(purpose="scheduling.placement_changed",
                                       recipient__guardian_profile__links__student=newcomer
                                       ).exists()


def test_adding_to_a_full_class_is_409(cast, allocated, activities, late_joiners, api):
    newcomer = late_joiners(1)[0]
    painting = class_of(allocated, activities.arts, 1)  # one seat, taken
    response = _add(api, cast.principal, painting, newcomer)
    assert response.status_code == 409
    assert response.json()["code"] == "class_full"
    assert painting.placements.count() == 1
    assert not Placement.objects.filter(student=newcomer).exists()


def test_a_child_already_placed_in_the_slot_is_409(cast, allocated, activities, api):
    reading = class_of(allocated, activities.reading, 1)
    response = _add(api, cast.principal, reading, cast.child)  # in basketball on Monday
    assert response.status_code == 409
    assert response.json()["code"] == "already_placed"
    assert Placement.objects.filter(student=cast.child, slot=reading.slot).count() == 1
    assert reading.placements.count() == 1


def test_others_cannot_add_members(cast, allocated, activities, late_joiners, api):
    newcomer = late_joiners(1)[0]
    sports = class_of(allocated, activities.sports, 1)
    assert _add(api, cast.principal2, sports, newcomer).status_code == 404
    assert _add(api, cast.parent, sports, newcomer).status_code == 404
    assert not Placement.objects.filter(student=newcomer).exists()


def test_adding_a_child_who_may_not_be_added_is_400(cast, allocated, activities,
                                                    late_joiners, api):
    sports = class_of(allocated, activities.sports, 5)
    # other_child is not enrolled on Friday; another school's child is not found.
    response = _add(api, cast.principal, sports, cast.other_child)
    assert response.status_code == 400 and "student" in response.json()
    response = _add(api, cast.principal, sports, cast.other_school_child)
    assert response.status_code == 400 and "student" in response.json()
    newcomer = late_joiners(1)[0]
    crafts = class_of(allocated, activities.crafts, 1)  # grade 1 only
    response = _add(api, cast.principal, crafts, newcomer)
    assert response.status_code == 400 and "student" in response.json()
    assert not Placement.objects.filter(source="manual").exists()


# --- POST /api/v1/placements/{id}/move/ and /api/v1/placements/swap/ -------------------------

def test_principal_moves_a_placement(cast, allocated, activities, api):
    placement = Placement.objects.get(student=cast.sibling, slot__weekday=1)
    sports = class_of(allocated, activities.sports, 1)
    reading = class_of(allocated, activities.reading, 1)
    assert placement.temporary_class == reading
    response = api(cast.principal).post(f"/api/v1/placements/{placement.pk}/move/",
                                        {"to": sports.pk, "reason": "家长申请"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"placement": placement.pk, "class": sports.pk}
    placement.refresh_from_db()
    assert (placement.temporary_class, placement.source, placement.rank) == (
        sports, "manual", None)
    assert reading.placements.count() == 0 and sports.placements.count() == 2
    entry = AuditEntry.objects.get(action="scheduling.placement.moved",
                                   object_id=str(placement.pk))
    assert entry.data == {"from": reading.pk, "to": sports.pk, "reason": "家长申请"}
    assert entry.actor == cast.principal


def test_moves_that_break_a_rule_are_refused(cast, allocated, activities, api):
    placement = Placement.objects.get(student=cast.sibling, slot__weekday=1)
    url = f"/api/v1/placements/{placement.pk}/move/"
    full = api(cast.principal).post(url, {"to": class_of(allocated, activities.arts, 1).pk},
                                    format="json")
    assert full.status_code == 409 and full.json()["code"] == "class_full"
    tuesday = api(cast.principal).post(
        url, {"to": class_of(allocated, activities.sports, 2).pk}, format="json")
    assert tuesday.status_code == 400 and "to" in tuesday.json()
    assert api(cast.principal2).post(
        url, {"to": class_of(allocated, activities.sports, 1).pk},
        format="json").status_code == 404
    assert Placement.objects.get(pk=placement.pk).temporary_class == class_of(
        allocated, activities.reading, 1)
    assert not AuditEntry.objects.filter(action="scheduling.placement.moved").exists()


def test_principal_swaps_two_placements(cast, allocated, activities, api):
    first = Placement.objects.get(student=cast.other_child, slot__weekday=1)  # painting
    second = Placement.objects.get(student=cast.child, slot__weekday=1)  # basketball
    painting, sports = first.temporary_class, second.temporary_class
    response = api(cast.principal).post("/api/v1/placements/swap/", {
        "first": first.pk, "second": second.pk, "reason": "互换"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"placements": {str(first.pk): sports.pk,
                                              str(second.pk): painting.pk}}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.temporary_class, second.temporary_class) == (sports, painting)
    assert first.source == second.source == "manual"
    entries = AuditEntry.objects.filter(action="scheduling.placement.swapped")
    assert sorted(e.object_id for e in entries) == sorted([str(first.pk), str(second.pk)])
    assert all(e.data == {"pair": sorted([first.pk, second.pk]), "reason": "互换"}
               for e in entries)
    # The counts did not change: painting still holds its single seat.
    assert painting.placements.count() == 1


def test_swaps_across_slots_or_schools_are_refused(cast, allocated, api):
    monday = Placement.objects.get(student=cast.child, slot__weekday=1)
    tuesday = Placement.objects.get(student=cast.sibling, slot__weekday=2)
    response = api(cast.principal).post("/api/v1/placements/swap/", {
        "first": monday.pk, "second": tuesday.pk}, format="json")
    assert response.status_code == 400 and "second" in response.json()
    sibling_monday = Placement.objects.get(student=cast.sibling, slot__weekday=1)
    response = api(cast.principal2).post("/api/v1/placements/swap/", {
        "first": monday.pk, "second": sibling_monday.pk}, format="json")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="scheduling.placement.swapped").exists()


def test_a_guardian_sees_only_own_children_among_the_members(cast, allocated, api):
    tuesday = afternoon(cast.term, 2)
    hall = TemporaryClass.objects.get(menu=allocated, slot=tuesday, kind="study_hall")
    everyone = {cast.child.pk, cast.sibling.pk, cast.other_child.pk}
    body = api(cast.principal).get(f"/api/v1/temporary-classes/{hall.pk}/").json()
    assert set(body["members"]) == everyone
    body = api(cast.parent2).get(f"/api/v1/temporary-classes/{hall.pk}/").json()
    assert body["members"] == [cast.other_child.pk]
    listed = api(cast.parent).get("/api/v1/temporary-classes/", {"menu": allocated.pk,
                                                                 "slot": tuesday.pk}).json()
    assert [set(c["members"]) for c in listed["results"]] == [{cast.child.pk,
                                                               cast.sibling.pk}]
    from django.test import Client

    client = Client()
    client.force_login(cast.parent2)
    page = client.get(f"/scheduling/classes/{hall.pk}/").content.decode()
    assert cast.other_child.name in page and cast.child.name not in page
