"""Accessibility on the device each role uses: the guardian on a phone, the school's staff and
the district on a tablet. On every role's home page and the pages of its main flow, against
the demo school, axe-core (vendored in static/vendor/axe-core/) finds no critical or serious
violation; nothing is wider than the screen, nor scrolls sideways inside it; and every control
that is not a link inside a sentence is a target of at least 44×44 CSS px (STYLE.md)."""

import datetime
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from attendance.models import ClassSession
from billing.models import Payment
from enrollment.models import Enrolment
from scheduling.models import Menu, TemporaryClass
from schools.models import Homeroom, User
from schools.selectors import children_of, monday_of
from tests.browser.conftest import PHONE, login
from tests.conftest import DEMO_PASSWORD

# `django_db` has the test database created; the pages read what `demo_server` committed.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

AXE = settings.BASE_DIR / "static" / "vendor" / "axe-core" / "axe.min.js"
TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 2,
          "is_mobile": True, "has_touch": True}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "critical" || v.impact === "serious")
    .map(v => `${v.impact} ${v.id}: `
      + v.nodes.slice(0, 5).map(n => n.target.join(" ")).join(", "));
}"""

# A table or a box that scrolls sideways inside a page that does not.
SIDEWAYS = """() => Array.from(document.querySelectorAll("main *"))
  .filter(el => el.scrollWidth > el.clientWidth + 1
    && ["auto", "scroll"].includes(getComputedStyle(el).overflowX))
  .map(el => `${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth} > ${el.clientWidth}`)"""

# Links inside a sentence may stay inline; every other link, button, field, checkbox or radio
# (measured with its label when it sits in one) must be 44×44.
SMALL_TARGETS = """() => {
  const shown = el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden"
      && !el.closest("[hidden], .sr-only");
  };
  const inSentence = a => {
    if (a.tagName !== "A" || getComputedStyle(a).display !== "inline") return false;
    const block = a.parentElement.closest("p, li, td, dd, div, h1, h2, h3, label");
    return block !== null && block.textContent.trim().length > a.textContent.trim().length;
  };
  const small = [];
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  for (const el of document.querySelectorAll(controls)) {
    if (!shown(el) || inSentence(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      const label = el.closest("label")
        || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) box = label.getBoundingClientRect();
    }
    if (box.width < 43.5 || box.height < 43.5) {
      const name = (el.textContent || el.name || el.id || "").trim().slice(0, 30);
      const size = `${Math.round(box.width)}×${Math.round(box.height)}`;
      small.push(`${el.tagName.toLowerCase()} "${name}" ${size}`);
    }
  }
  return small;
}"""


@pytest.fixture(scope="module")
def demo_server(django_db_setup, django_db_blocker):
    """The demo seeded once for the module and committed, behind a live server of the
    module's own: pytest-django's `live_server` empties the database after each test, and
    seeding takes most of a minute. Emptied again when the module is done. Yields the server
    and the addresses of the pages to walk."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        call_command("seed_demo", password=DEMO_PASSWORD, quiet=True)
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield server, _demo_pages()
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


def _demo_pages() -> SimpleNamespace:
    parent = User.objects.get(username="parent")
    children = list(children_of(parent).order_by("pk"))
    enrolment = (Enrolment.objects.filter(student__in=children, status=Enrolment.Status.ACTIVE)
                 .select_related("student").order_by("pk").first())
    child = enrolment.student
    applicant = next((c for c in children if c != child), child)
    this_week = monday_of(timezone.localdate())
    upcoming = Menu.objects.get(school=child.school,
                                week=this_week + datetime.timedelta(days=7))
    current = Menu.objects.get(school=child.school, week=this_week)
    homeroom = Homeroom.objects.filter(head_teacher__user__username="homeroom").first()
    taught = (TemporaryClass.objects.filter(head_teacher__user__username="teacher",
                                            menu=current).order_by("pk").first())
    served = (ClassSession.objects.filter(teacher__user__username="teacher")
              .order_by("-date").first())
    month = f"/attendance/months/{timezone.localdate():%Y-%m}/"
    receipt = Payment.objects.filter(student=child).order_by("pk").first()
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1))
    payroll = f"/billing/payroll/{last_month:%Y-%m}/"
    attendance = (["/attendance/", f"/attendance/sessions/{served.pk}/",
                   f"/attendance/classes/{served.temporary_class_id}/week/", month]
                  if served else [])
    return SimpleNamespace(
        parent=[
            "/",
            f"/scheduling/students/{child.pk}/week/",
            "/scheduling/menus/",
            f"/scheduling/menus/{upcoming.pk}/",
            f"/scheduling/menus/{upcoming.pk}/choose/{child.pk}/",
            "/enrollment/",
            f"/enrollment/terms/{enrolment.term_id}/apply/{applicant.pk}/",
            f"/enrollment/enrolments/{enrolment.pk}/leave/",
            f"/enrollment/enrolments/{enrolment.pk}/withdraw/",
            "/enrollment/leave/",
            "/notifications/",
            "/attendance/",
            *(f"/attendance/children/{c.pk}/" for c in children),
            "/billing/",
            *(f"/billing/students/{c.pk}/" for c in children),
            *([f"/billing/receipts/{receipt.pk}/"] if receipt else []),
        ],
        finance=["/billing/", "/billing/register/", "/billing/refunds/",
                 "/billing/trial-balance/", payroll,
                 *([f"/billing/receipts/{receipt.pk}/"] if receipt else [])],
        homeroom=["/", "/enrollment/review/", f"/roster/homerooms/{homeroom.pk}/"],
        teacher=["/", "/scheduling/teachers/week/", f"/scheduling/classes/{taught.pk}/",
                 *attendance],
        principal=[
            "/",
            "/enrollment/decide/",
            "/scheduling/menus/",
            f"/scheduling/menus/{upcoming.pk}/",
            f"/scheduling/menus/{current.pk}/classes/",
            f"/scheduling/classes/{taught.pk}/",
            "/scheduling/rooms/week/",
            f"/attendance/days/{(served.date if served else timezone.localdate()).isoformat()}/",
            *attendance[1:],
            f"/attendance/children/{child.pk}/",
            "/billing/", "/billing/term/", "/billing/trial-balance/", payroll, "/oversight/",
            f"/billing/students/{child.pk}/",
        ],
        district=["/", "/oversight/", f"/oversight/schools/{child.school_id}/"],
    )


def _walk(browser, demo_server, username: str, device: dict) -> list[str]:
    server, pages = demo_server
    width = device["viewport"]["width"]
    context = browser.new_context(**device, locale="zh-CN", base_url=server.url,
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    context.set_default_timeout(30000)
    page = context.new_page()
    problems = []
    try:
        login(page, username, DEMO_PASSWORD)
        for path in getattr(pages, username):
            response = page.goto(path)
            page.wait_for_load_state("networkidle")
            if response.status != 200:
                problems.append(f"{path}: HTTP {response.status}")
                continue
            page.add_script_tag(path=str(AXE))
            problems += [f"{path}: {v}" for v in page.evaluate(RUN_AXE)]
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                problems.append(f"{path}: {scroll_width} px wide on a {width} px screen")
            problems += [f"{path}: scrolls sideways {box}" for box in page.evaluate(SIDEWAYS)]
            problems += [f"{path}: small target {t}" for t in page.evaluate(SMALL_TARGETS)]
    finally:
        context.close()
    return problems


@pytest.mark.parametrize("username, device", [
    ("parent", PHONE), ("homeroom", TABLET), ("teacher", TABLET), ("principal", TABLET),
    ("district", TABLET), ("finance", PHONE),
], ids=["guardian-phone", "homeroom-tablet", "teacher-tablet", "principal-tablet",
        "district-tablet", "finance-phone"])
def test_each_roles_pages_pass_axe_fit_the_screen_and_are_easy_to_tap(browser, demo_server,
                                                                     username, device):
    problems = _walk(browser, demo_server, username, device)
    assert not problems, "\n".join(problems)
