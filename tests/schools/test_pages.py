import pytest

from notifications.services import notify

pytestmark = pytest.mark.django_db


def _get(client, user, path, **extra):
    client.force_login(user)
    return client.get(path, **extra)


def test_login_page_is_chinese_by_default(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="zh-Hans"' in page and "登录课后服务" in page


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who,expected,absent", [
    ("parent", ["张小明", "张小红"], ["刘洋", "今日概况"]),
    ("homeroom_teacher", ["我的班级", "3年级1班"], ["张小红", "3年级2班"]),
    ("teacher", ["今天我带的班"], ["今日概况"]),
    ("principal", ["今日概况", "实验小学", "导入花名册"], ["育才小学"]),
    ("finance", ["今日概况", "实验小学"], ["导入花名册"]),
    ("officer", ["辖区学校", "实验小学", "育才小学"], ["郊区中学"]),
])
def test_each_role_has_its_home(cast, client, who, expected, absent):
    page = _get(client, getattr(cast, who), "/").content.decode()
    for text in expected:
        assert text in page, text
    for text in absent:
        assert text not in page, text


def test_home_pins_its_queries(cast, client, django_assert_max_num_queries):
    """The to-do lists read a fixed number of queries, whatever the school's size."""
    client.force_login(cast.principal)
    with django_assert_max_num_queries(30):
        client.get("/")


def test_student_page_is_scoped(cast, client):
    assert _get(client, cast.parent, f"/roster/students/{cast.child.pk}/").status_code == 200
    assert _get(client, cast.parent2, f"/roster/students/{cast.child.pk}/").status_code == 404
    assert _get(client, cast.principal2, f"/roster/students/{cast.child.pk}/").status_code == 404


def test_staff_see_a_students_history_and_guardians_do_not(cast, client):
    from schools.audit import audit_record

    audit_record(actor=cast.principal, action="schools.student.moved", obj=cast.child,
                 school=cast.school)
    staff_page = _get(client, cast.homeroom_teacher,
                      f"/roster/students/{cast.child.pk}/").content.decode()
    assert "schools.student.moved" in staff_page and "变更记录" in staff_page
    parent_page = _get(client, cast.parent, f"/roster/students/{cast.child.pk}/").content.decode()
    assert "变更记录" not in parent_page


def test_homeroom_pages_are_scoped(cast, client):
    assert _get(client, cast.homeroom_teacher,
                f"/roster/homerooms/{cast.homeroom.pk}/").status_code == 200
    assert _get(client, cast.homeroom_teacher,
                f"/roster/homerooms/{cast.homeroom2.pk}/").status_code == 404


def test_notification_centre_lists_own_and_marks_read(cast, client,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=cast.parent, purpose="test", dedupe_key="t:1", subject="报名结果",
               body="已批准", channels=["in_app"])
    page = _get(client, cast.parent, "/notifications/").content.decode()
    assert "报名结果" in page and 'class="badge"' in page
    assert "报名结果" not in _get(client, cast.parent2, "/notifications/").content.decode()
    client.force_login(cast.parent)
    client.post("/notifications/read/")
    assert 'class="badge"' not in client.get("/notifications/").content.decode()


def test_notification_api_is_own_only(cast, api):
    notify(recipient=cast.parent, purpose="test", dedupe_key="t:2", subject="s", body="b",
           channels=["in_app"])
    own = api(cast.parent).get("/api/v1/notifications/").json()
    assert own["count"] == 1
    pk = own["results"][0]["id"]
    assert api(cast.parent2).post(f"/api/v1/notifications/{pk}/read/").status_code == 404
    read = api(cast.parent).post(f"/api/v1/notifications/{pk}/read/")
    assert read.status_code == 200 and read.json()["read_at"]


def test_password_change(cast, client):
    from tests.factories import PASSWORD

    client.force_login(cast.parent)
    response = client.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": "a-much-better-pw-42",
        "new_password2": "a-much-better-pw-42"})
    assert response.status_code == 302
    cast.parent.refresh_from_db()
    assert cast.parent.check_password("a-much-better-pw-42")


def test_english_is_the_second_language(cast, client):
    page = _get(client, cast.parent, "/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "service plan is not published yet" in page and 'lang="en"' in page
