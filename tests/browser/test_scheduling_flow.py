"""A week on a phone, as its users walk it: the principal publishes next week's menu
(acknowledging the short-day warnings), the guardian ranks choices for a child, the principal
allocates after the deadline, and the guardian sees the child's timetable."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scheduling import services
from scheduling.models import Choice, Menu, Placement
from schools.models import Staff
from tests.browser.conftest import PHONE, login
from tests.enrollment.conftest import (  # noqa: F401  fixtures
    apply_for,
    class_approved,
    enrolment,
    plan,
    submitted,
)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page):
    page.context.clear_cookies()


@pytest.fixture
def draft_week(cast):
    """Next week's draft menu: football and chess every afternoon (grade 3 may take both)."""
    teacher = Staff.objects.get(user=cast.teacher)
    football = services.activity_create(school=cast.school, user=cast.principal, name="足球",
                                        category="sports", grades=[3], capacity=40,
                                        teacher=teacher, room="操场")
    chess = services.activity_create(school=cast.school, user=cast.principal, name="象棋",
                                     category="club", grades=[3], capacity=20, room="棋室")
    today = timezone.localdate()
    menu = services.menu_create(school=cast.school, user=cast.principal,
                                week=today + datetime.timedelta(days=7 - today.weekday()),
                                choice_deadline=timezone.now() + datetime.timedelta(days=1))
    for slot in cast.term.slots.filter(kind="afternoon"):
        for activity in (football, chess):
            services.menu_item_add(menu=menu, user=cast.principal, activity=activity, slot=slot)
    return menu


@pytest.mark.usefixtures("enrolment")
def test_principal_publishes_parent_chooses_principal_allocates(cast, phone, draft_week):
    menu = draft_week
    # The principal publishes, acknowledging the warnings (afternoons alone are < 2 hours).
    login(phone, "principal", PASSWORD)
    phone.click("text=每周菜单")
    phone.click(f"a[href='/scheduling/menus/{menu.pk}/']")
    assert "不足 2 小时" in phone.locator("#publish").inner_text()
    phone.check("#id_acknowledge_warnings")
    phone.click("#publish-button")
    phone.wait_for_load_state("networkidle")
    assert Menu.objects.get(pk=menu.pk).status == "published"
    assert "已发布" in phone.locator("#menu-status").inner_text()

    # The guardian ranks chess first and football second for Monday, on a phone.
    _logout(phone)
    login(phone, "parent", PASSWORD)
    phone.click("text=每周菜单")
    phone.click(f"a[href='/scheduling/menus/{menu.pk}/']")
    phone.click(f"a[href='/scheduling/menus/{menu.pk}/choose/{cast.child.pk}/']")
    monday = cast.term.slots.get(kind="afternoon", weekday=1)
    items = {i.activity.name: i for i in menu.items.filter(slot=monday)}
    card = phone.locator(f"#slot-{monday.pk}")
    chess = card.locator(f"button.pick[data-item='{items['象棋'].pk}']")
    football = card.locator(f"button.pick[data-item='{items['足球'].pk}']")
    # The selects are the no-script fallback, hidden once the script has run.
    expect(card.locator("select").first).to_be_hidden()
    # Football tapped by mistake, tapped again to take it out; then chess, then football.
    football.tap()
    football.tap()
    assert football.get_attribute("aria-pressed") == "false"
    chess.tap()
    football.tap()
    assert chess.get_attribute("aria-pressed") == "true"
    assert chess.locator(".pick-rank").inner_text() == "1"
    assert football.locator(".pick-rank").inner_text() == "2"
    assert "①象棋 ②足球" in card.locator(".pick-summary").inner_text()
    # "清除" on another slot's card leaves Monday's ranking alone.
    tuesday = cast.term.slots.get(kind="afternoon", weekday=2)
    other = phone.locator(f"#slot-{tuesday.pk}")
    other.locator("button.pick").first.tap()
    other.locator("button.pick-clear").tap()
    assert other.locator("button[aria-pressed=true]").count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.click("#save-choices")
    phone.wait_for_load_state("networkidle")
    assert "已保存" in phone.locator("main").inner_text()
    assert list(Choice.objects.filter(student=cast.child, slot=monday)
                .values_list("item__activity__name", flat=True)) == ["象棋", "足球"]
    assert not Choice.objects.filter(student=cast.child, slot=tuesday).exists()
    # The page shown again starts from the saved ranking.
    assert phone.locator(f"#slot-{monday.pk} button[aria-pressed=true]").count() == 2
    assert phone.locator(f"#slot-{monday.pk} .pick-summary").inner_text().endswith("①象棋 ②足球")

    # The deadline passes; the principal allocates.
    Menu.objects.filter(pk=menu.pk).update(
        choice_deadline=timezone.now() - datetime.timedelta(minutes=1))
    _logout(phone)
    login(phone, "principal", PASSWORD)
    phone.goto(f"/scheduling/menus/{menu.pk}/")
    phone.click("#allocate-button")
    phone.wait_for_load_state("networkidle")
    assert "分班完成" in phone.locator("main").inner_text()
    placement = Placement.objects.get(student=cast.child, slot=monday)
    assert placement.rank == 1 and placement.temporary_class.name == "周一课后·象棋"

    # The guardian sees the child's week.
    _logout(phone)
    login(phone, "parent", PASSWORD)
    phone.click("text=每周菜单")
    phone.click(f"a[href='/scheduling/students/{cast.child.pk}/week/']")
    phone.click("text=下一周")
    timetable = phone.locator(".cards.week").inner_text()
    assert "周一课后·象棋" in timetable and "棋室" in timetable
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.usefixtures("enrolment")
def test_a_parent_without_javascript_ranks_with_the_selects(cast, browser, live_server,
                                                            draft_week):
    """Without JavaScript the rank selects are the page, and a repeated activity comes back
    with the error on its card and the entries kept."""
    menu = services.menu_publish(menu=draft_week, user=cast.principal,
                                 acknowledge_warnings=True)
    context = browser.new_context(**PHONE, locale="zh-CN", base_url=live_server.url,
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, "parent", PASSWORD)
        page.goto(f"/scheduling/menus/{menu.pk}/choose/{cast.child.pk}/")
        monday = cast.term.slots.get(kind="afternoon", weekday=1)
        items = {i.activity.name: str(i.pk) for i in menu.items.filter(slot=monday)}
        assert page.locator(f"#slot-{monday.pk} button.pick").first.is_hidden()
        page.select_option(f"#id_s{monday.pk}-rank1", items["象棋"])
        page.select_option(f"#id_s{monday.pk}-rank2", items["象棋"])
        page.click("#save-choices")
        assert "同一活动不能重复填报" in page.locator(f"#slot-{monday.pk}").inner_text()
        assert page.input_value(f"#id_s{monday.pk}-rank2") == items["象棋"]
        page.select_option(f"#id_s{monday.pk}-rank2", items["足球"])
        page.click("#save-choices")
        assert "已保存" in page.locator("main").inner_text()
        assert list(Choice.objects.filter(student=cast.child, slot=monday)
                    .values_list("item__activity__name", flat=True)) == ["象棋", "足球"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
