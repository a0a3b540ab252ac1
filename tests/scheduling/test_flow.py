"""The week's path through the API and the pages: the principal builds and publishes next
week's menu (policy checks), guardians rank choices, the principal allocates, guardians and
teachers see the result; and the changes after allocation under the cap."""

import datetime

import pytest
from django.db.models import Count
from django.utils import timezone

from notifications.models import Notification
from scheduling import services
from scheduling.models import Choice, Menu, Placement, TemporaryClass
from schools.models import AuditEntry, Staff
from tests import factories as f

pytestmark = pytest.mark.django_db


def next_monday() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday())


@pytest.fixture
def week(cast, enrolment):
    """Next week's menu of the cast school, published: football (grades 3–6) and picture
    books (grades 1–2) every afternoon, and noon reading; `cast.child` (grade 3) enrolled in
    the afternoons."""
    teacher = Staff.objects.get(user=cast.teacher)
    other = f.StaffFactory(school=cast.school, name="钱老师")
    for number in (1, 2, 4, 5, 6):
        f.GradeFactory(school=cast.school, number=number)
    football = services.activity_create(school=cast.school, user=cast.principal, name="足球",
                                        category="sports", grades=[3, 4, 5, 6], capacity=40,
                                        teacher=teacher, room="操场")
    books = services.activity_create(school=cast.school, user=cast.principal, name="绘本",
                                     category="reading", grades=[1, 2], capacity=40,
                                     teacher=other, room="图书馆")
    chess = services.activity_create(school=cast.school, user=cast.principal, name="象棋",
                                     category="club", grades=[3, 4], capacity=2, room="棋室")
    reading = services.activity_create(school=cast.school, user=cast.principal, name="午读",
                                       category="reading", grades=[1, 2, 3, 4, 5, 6],
                                       capacity=45, room="教室")
    menu = services.menu_create(school=cast.school, week=next_monday(), user=cast.principal,
                                choice_deadline=timezone.now() + datetime.timedelta(days=1))
    for slot in cast.term.slots.order_by("weekday"):
        if slot.kind == "noon":
            services.menu_item_add(menu=menu, user=cast.principal, activity=reading, slot=slot)
            continue
        for activity in (football, books, chess):
            services.menu_item_add(menu=menu, user=cast.principal, activity=activity, slot=slot)
    return menu


def close_choices(menu: Menu) -> None:
    Menu.objects.filter(pk=menu.pk).update(
        choice_deadline=timezone.now() - datetime.timedelta(minutes=1))


def test_principal_publishes_guardian_chooses_principal_allocates(cast, api, week):
    menu = week
    assert api(cast.principal2).post(f"/api/v1/menus/{menu.pk}/publish/").status_code == 404
    assert api(cast.parent).get(f"/api/v1/menus/{menu.pk}/").status_code == 404  # a draft
    response = api(cast.principal).post(f"/api/v1/menus/{menu.pk}/publish/", {},
                                        format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    assert Notification.objects.filter(recipient=cast.parent, channel="in_app",
                                       purpose="scheduling.menu_published").count() == 1

    listed = api(cast.parent).get(f"/api/v1/menus/?school={cast.school.pk}"
                                  f"&week={menu.week}").json()
    assert listed["count"] == 1
    item = listed["results"][0]["items"][0]
    assert set(item) >= {"id", "activity", "slot", "teacher", "room", "grades", "capacity",
                         "seats_left"}

    monday = cast.term.slots.get(kind="afternoon", weekday=1)
    items = {i.activity.name: i for i in menu.items.filter(slot=monday)}
    url = f"/api/v1/menus/{menu.pk}/choices/"
    body = {"student": cast.child.pk, "slot": monday.pk,
            "ranked": [items["象棋"].pk, items["足球"].pk]}
    assert api(cast.parent2).post(url, body, format="json").status_code == 404
    bad = api(cast.parent).post(url, {**body, "ranked": [items["绘本"].pk]}, format="json")
    assert bad.status_code == 400 and "ranked" in bad.json()
    assert api(cast.parent).post(url, body, format="json").status_code == 201
    assert list(Choice.objects.filter(student=cast.child).values_list("item__activity__name",
                                                                      "rank")) == [
        ("象棋", 1), ("足球", 2)]

    early = api(cast.principal).post(f"/api/v1/menus/{menu.pk}/allocate/", {}, format="json")
    assert early.status_code == 409
    preview = api(cast.principal).post(f"/api/v1/menus/{menu.pk}/allocate/",
                                       {"preview": True, "seed": "s1"}, format="json")
    assert preview.status_code == 200 and not TemporaryClass.objects.exists()

    close_choices(menu)
    late = api(cast.parent).post(url, body, format="json")
    assert late.status_code == 409 and late.json()["code"] == "deadline_passed"
    assert api(cast.principal2).post(f"/api/v1/menus/{menu.pk}/allocate/").status_code == 404
    response = api(cast.principal).post(f"/api/v1/menus/{menu.pk}/allocate/", {"seed": "s1"},
                                        format="json")
    assert response.status_code == 200, response.content
    stats = response.json()
    assert {"placed", "first_choice", "second_choice", "third_choice", "unplaced",
            "priority_unplaced", "classes"} <= set(stats)
    assert stats["first_choice"] == 1 and stats["unplaced"] == 0
    menu.refresh_from_db()
    assert menu.status == "allocated"

    # The child: chess on Monday (first choice), a study hall on the other afternoons.
    placements = Placement.objects.filter(student=cast.child).select_related(
        "temporary_class__slot")
    assert placements.count() == 5
    chess = placements.get(slot=monday).temporary_class
    assert chess.item.activity.name == "象棋" and chess.head_teacher is not None
    assert all(p.temporary_class.kind == "study_hall" for p in placements.exclude(slot=monday))
    # No class above its capacity; every class has a head teacher.
    for cls in TemporaryClass.objects.annotate(n=Count("placements")):
        assert cls.n <= cls.capacity
    assert Notification.objects.filter(recipient=cast.parent,
                                       purpose="scheduling.placement").exists()
    assert AuditEntry.objects.filter(action="scheduling.menu.allocated").count() == 1

    detail = api(cast.parent).get(f"/api/v1/temporary-classes/{chess.pk}/")
    assert detail.status_code == 200
    assert set(detail.json()) >= {"id", "name", "slot", "cap", "head_teacher", "room",
                                  "members"}
    assert api(cast.principal2).get(f"/api/v1/temporary-classes/{chess.pk}/").status_code == 404
    mine = api(cast.parent2).get(f"/api/v1/temporary-classes/?menu={menu.pk}").json()
    assert mine["count"] == 0  # parent2's child is not enrolled: no class to see

    # The guardian's timetable page and the class list page.
    from django.test import Client

    client = Client()
    client.force_login(cast.parent)
    page = client.get(f"/scheduling/students/{cast.child.pk}/week/?week={menu.week}")
    assert page.status_code == 200 and chess.name in page.content.decode()
    client.force_login(cast.principal)
    page = client.get(f"/scheduling/classes/{chess.pk}/")
    assert page.status_code == 200 and cast.child.name in page.content.decode()


def test_publication_lists_every_problem_and_asks_for_warnings(cast, api, week):
    menu = week
    monday = cast.term.slots.get(kind="afternoon", weekday=1)
    football = menu.items.get(slot=monday, activity__name="足球")
    books = menu.items.get(slot=monday, activity__name="绘本")
    type(football).objects.filter(pk=football.pk).update(
        end=datetime.time(19, 0), capacity=50, grades=[1, 3])
    type(books).objects.filter(pk=books.pk).update(teacher=football.teacher, room="操场")
    response = api(cast.principal).post(f"/api/v1/menus/{menu.pk}/publish/", {},
                                        format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "policy_check_failed"
    codes = {p["code"] for p in body["problems"]}
    assert codes == {"end_time", "capacity", "grade", "teacher_double_booked",
                     "room_double_booked"}
    assert Menu.objects.get(pk=menu.pk).status == "draft"


def test_short_days_are_warnings_the_principal_acknowledges(cast, api, week):
    menu = week
    menu.items.filter(slot__kind="noon").delete()  # 16:20–18:00 alone is 100 minutes
    url = f"/api/v1/menus/{menu.pk}/publish/"
    response = api(cast.principal).post(url, {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "warnings_unacknowledged"
    assert {w["code"] for w in response.json()["warnings"]} == {"short_day"}
    response = api(cast.principal).post(url, {"acknowledge_warnings": True}, format="json")
    assert response.status_code == 200
    assert len(Menu.objects.get(pk=menu.pk).acknowledged_warnings) == 5


def test_add_to_a_full_class_is_refused(cast, api, week):
    _enrol_bulk(cast, 1)  # a second pupil, to be refused a seat in the full class
    menu = services.menu_publish(menu=week, user=cast.principal)
    close_choices(menu)
    services.menu_allocate(menu=menu, user=cast.principal, seed="x")
    monday = cast.term.slots.get(kind="afternoon", weekday=1)
    chess = TemporaryClass.objects.get(menu=menu, slot=monday, item__activity__name="象棋")
    url = f"/api/v1/temporary-classes/{chess.pk}/members/"
    assert api(cast.principal2).post(url, {"student": cast.child.pk}).status_code == 404
    # The child already sits in a study hall on Monday: adding is refused, moving works.
    response = api(cast.principal).post(url, {"student": cast.child.pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "already_placed"
    placement = Placement.objects.get(student=cast.child, slot=monday)
    moved = api(cast.principal).post(f"/api/v1/placements/{placement.pk}/move/",
                                     {"to": chess.pk}, format="json")
    assert moved.status_code == 200
    assert AuditEntry.objects.filter(action="scheduling.placement.moved").count() == 1
    TemporaryClass.objects.filter(pk=chess.pk).update(capacity=1)
    other = Placement.objects.exclude(student=cast.child).get(slot=monday)
    full = api(cast.principal).post(f"/api/v1/placements/{other.pk}/move/",
                                    {"to": chess.pk}, format="json")
    assert full.status_code == 409 and full.json()["code"] == "class_full"
    assert chess.placements.count() == 1


def test_pages_are_scoped(cast, week):
    from django.test import Client

    menu = services.menu_publish(menu=week, user=cast.principal, acknowledge_warnings=True)
    close_choices(menu)
    services.menu_allocate(menu=menu, user=cast.principal, seed="x")
    chess = TemporaryClass.objects.filter(menu=menu, item__activity__name="象棋").first()
    client = Client()
    expectations = [
        (cast.principal2, f"/scheduling/menus/{menu.pk}/", 404),
        (cast.principal2, f"/scheduling/classes/{chess.pk}/", 404),
        (cast.parent2, f"/scheduling/menus/{menu.pk}/choose/{cast.child.pk}/", 404),
        (cast.parent2, f"/scheduling/students/{cast.child.pk}/week/", 404),
        (cast.parent, f"/scheduling/students/{cast.other_school_child.pk}/week/", 404),
        (cast.parent, "/scheduling/activities/", 404),
        (cast.parent, "/scheduling/teachers/week/", 404),
        (cast.principal, "/scheduling/activities/", 200),
        (cast.principal, f"/scheduling/menus/{menu.pk}/classes/", 200),
        (cast.principal, f"/scheduling/rooms/week/?week={menu.week}", 200),
        (cast.teacher, f"/scheduling/teachers/week/?week={menu.week}", 200),
        (cast.parent, f"/scheduling/menus/{menu.pk}/", 200),
    ]
    for user, url, status in expectations:
        client.force_login(user)
        assert client.get(url).status_code == status, (user.username, url)
    client.force_login(cast.principal)
    post = client.post(f"/scheduling/menus/{menu.pk}/allocate/", {})
    assert post.status_code == 302  # already allocated: a message, nothing written twice
    assert menu.runs.filter(committed=True).count() == 1


def test_principal_copies_last_week_and_adds_an_item_on_the_pages(cast, week):
    from django.test import Client

    client = Client()
    client.force_login(cast.principal)
    following = week.week + datetime.timedelta(days=7)
    response = client.post("/scheduling/menus/", {"week": following.isoformat(),
                                                  "copy_previous": "on"})
    assert response.status_code == 302
    copy = Menu.objects.get(school=cast.school, week=following)
    assert copy.items.count() == week.items.count() and copy.status == "draft"
    # The same week again: a field error, nothing created.
    again = client.post("/scheduling/menus/", {"week": following.isoformat()})
    assert again.status_code == 200 and "该周已有菜单" in again.content.decode()
    assert Menu.objects.filter(school=cast.school, week=following).count() == 1
    # Not a Monday: a field error.
    tuesday = client.post("/scheduling/menus/",
                          {"week": (following + datetime.timedelta(days=8)).isoformat()})
    assert "周一" in tuesday.content.decode()

    extra = services.activity_create(school=cast.school, user=cast.principal, name="合唱",
                                     category="arts", grades=[3], capacity=45)
    slots = list(cast.term.slots.filter(kind="afternoon", weekday__in=[2, 4]))
    response = client.post(f"/scheduling/menus/{copy.pk}/", {
        "activity": extra.pk, "slots": [s.pk for s in slots], "capacity": "30"})
    assert response.status_code == 302
    assert copy.items.filter(activity=extra, capacity=30).count() == 2
    page = client.get(f"/scheduling/menus/{copy.pk}/").content.decode()
    assert "合唱" in page and "发布检查" in page


def test_list_queries_do_not_grow_with_the_rows(cast, api, week, django_assert_max_num_queries):
    from django.test import Client

    menu = services.menu_publish(menu=week, user=cast.principal, acknowledge_warnings=True)
    close_choices(menu)
    services.menu_allocate(menu=menu, user=cast.principal, seed="x")
    assert menu.items.count() >= 20 and TemporaryClass.objects.filter(menu=menu).count() >= 20
    client = Client()
    client.force_login(cast.principal)
    with django_assert_max_num_queries(8):
        assert api(cast.principal).get("/api/v1/menus/").status_code == 200
    with django_assert_max_num_queries(8):
        assert api(cast.principal).get(
            f"/api/v1/temporary-classes/?menu={menu.pk}").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(f"/scheduling/menus/{menu.pk}/classes/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/scheduling/menus/{menu.pk}/").status_code == 200


def _enrol_bulk(cast, n: int) -> None:
    """n more grade-3 pupils enrolled in every slot, each with a guardian (setup only)."""
    from enrollment.models import Application, Enrolment

    pupils = f.school_with_pupils(n, school=cast.school, homerooms=[cast.homeroom])
    students, users = pupils.students, pupils.users
    plan = cast.term.plans.get(status="published")
    apps = Application.objects.bulk_create([
        Application(term=cast.term, student=s, applicant=u, status="approved", plan=plan,
                    submitted_at=timezone.now()) for s, u in zip(students, users, strict=True)])
    enrolments = Enrolment.objects.bulk_create([
        Enrolment(term=cast.term, student=s, application=a, start_date=cast.term.start)
        for s, a in zip(students, apps, strict=True)])
    slots = list(cast.term.slots.all())
    Enrolment.slots.through.objects.bulk_create([
        Enrolment.slots.through(enrolment_id=e.pk, serviceslot_id=s.pk)
        for e in enrolments for s in slots])


@pytest.mark.parametrize("pupils", [30, 90])
def test_allocation_writes_in_bulk(cast, api, week, pupils, django_assert_max_num_queries):
    """The allocate request's queries do not grow with the children: 30 or 90 more pupils
    with choices, the same bound."""
    _enrol_bulk(cast, pupils)
    menu = services.menu_publish(menu=week, user=cast.principal, acknowledge_warnings=True)
    monday = cast.term.slots.get(kind="afternoon", weekday=1)
    items = list(menu.items.filter(slot=monday, activity__name__in=["足球", "象棋"]))
    from enrollment.models import Enrolment

    for enrolment in Enrolment.objects.filter(term=cast.term).select_related(
            "student__grade", "application__applicant"):
        services.choices_set(menu=menu, student=enrolment.student, slot=monday, items=items,
                             user=enrolment.application.applicant)
    close_choices(menu)
    with django_assert_max_num_queries(36):
        response = api(cast.principal).post(f"/api/v1/menus/{menu.pk}/allocate/",
                                            {"seed": "b"}, format="json")
    assert response.status_code == 200
    # Every slot of the new pupils, the five afternoons of `cast.child`.
    assert Placement.objects.filter(menu=menu).count() == 10 * pupils + 5


def test_messages_follow_the_language(cast, api, week):
    menu = services.menu_publish(menu=week, user=cast.principal, acknowledge_warnings=True)
    close_choices(menu)
    slot = cast.term.slots.get(kind="afternoon", weekday=1)
    body = {"student": cast.child.pk, "slot": slot.pk, "ranked": []}
    url = f"/api/v1/menus/{menu.pk}/choices/"
    chinese = api(cast.parent).post(url, body, format="json").json()
    english = api(cast.parent).post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert chinese["detail"].startswith("选课已于") and chinese["code"] == "deadline_passed"
    assert english["detail"].startswith("Choices closed at")
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.principal)
    page = client.get(f"/scheduling/menus/{menu.pk}/").content.decode()
    assert "Commit the allocation" in page and "Weekly menu" in page


def test_admin_shows_the_week_read_only(cast, week):
    from django.test import Client

    admin_user = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    for model in ("activity", "menu", "allocationrun", "temporaryclass"):
        assert client.get(f"/admin/scheduling/{model}/").status_code == 200, model
    assert client.get(f"/admin/scheduling/menu/{week.pk}/change/").status_code == 200
    assert client.get("/admin/scheduling/menu/add/").status_code == 403


def test_who_fared_worse_last_week_wins_this_weeks_tie(cast, week):
    """Two pupils want the one seat of a solo class two weeks running: the one left out in the
    first week gets it in the second, whatever the lottery's seed."""
    from enrollment.models import Enrolment

    _enrol_bulk(cast, 1)
    rival = Enrolment.objects.exclude(student=cast.child).get(term=cast.term).student
    # Both in a priority group (cast.child claims one), so priority does not decide.
    Enrolment.objects.get(student=rival).application.__class__.objects.filter(
        student=rival).update(is_priority=True)
    solo = services.activity_create(school=cast.school, user=cast.principal, name="独奏",
                                    category="arts", grades=[3], capacity=1)
    monday = cast.term.slots.get(kind="afternoon", weekday=1)
    services.menu_item_add(menu=week, user=cast.principal, activity=solo, slot=monday)

    def rank_solo(menu):
        item = menu.items.get(slot=monday, activity=solo)
        for student in (cast.child, rival):
            services.choices_set(menu=menu, student=student, slot=monday, items=[item],
                                 user=cast.principal)

    def solo_winner(plan):
        (members,) = [m for c, m in zip(plan.classes, plan.members, strict=True)
                      if c.item is not None and c.item.activity_id == solo.pk
                      and c.slot_id == monday.pk]
        return {m["student_id"] for m in members}

    first = services.menu_publish(menu=week, user=cast.principal, acknowledge_warnings=True)
    rank_solo(first)
    close_choices(first)
    services.menu_allocate(menu=first, user=cast.principal, seed="week-1")
    (winner,) = Placement.objects.filter(menu=first, slot=monday,
                                         temporary_class__item__activity=solo)
    loser = rival.pk if winner.student_id == cast.child.pk else cast.child.pk

    second = services.menu_create(school=cast.school, user=cast.principal,
                                  week=first.week + datetime.timedelta(days=7),
                                  copy_previous=True)
    second = services.menu_publish(menu=second, user=cast.principal, acknowledge_warnings=True)
    rank_solo(second)
    for seed in map(str, range(8)):
        assert solo_winner(services.plan_seats(second, seed)) == {loser}


def test_the_menu_page_offers_choices_only_for_enrolled_children(cast, week):
    from django.test import Client

    menu = services.menu_publish(menu=week, user=cast.principal, acknowledge_warnings=True)
    client = Client()
    client.force_login(cast.parent)
    page = client.get(f"/scheduling/menus/{menu.pk}/").content.decode()
    assert f"/scheduling/menus/{menu.pk}/choose/{cast.child.pk}/" in page
    assert f"/scheduling/menus/{menu.pk}/choose/{cast.sibling.pk}/" not in page
    assert "这一周没有参加课后服务" in page  # the sibling is not enrolled


def test_a_guardian_sees_the_activities_open_to_the_childs_grade(cast, week):
    from django.test import Client

    menu = services.menu_publish(menu=week, user=cast.principal, acknowledge_warnings=True)
    client = Client()
    client.force_login(cast.parent)
    page = client.get(f"/scheduling/menus/{menu.pk}/").content.decode()
    assert "足球" in page and "象棋" in page  # grade 3
    assert "绘本" not in page  # grades 1–2 only
    client.force_login(cast.principal)
    assert "绘本" in client.get(f"/scheduling/menus/{menu.pk}/").content.decode()
