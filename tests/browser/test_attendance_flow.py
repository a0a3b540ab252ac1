"""The door at 16:30, as its users walk it.

On a tablet: the teacher takes roll (one child absent), records an incident, hands three
children over (one by the pickup code), loses the network, hands two more over (the page keeps
them waiting and reopens from the tablet's copy), gets the network back, and the two are sent
once; the principal's day close is refused while any child is left and goes through after the
last handoff. On a phone: a guardian adds an authorised adult, is told when that adult took the
child, and answers "that was not us"."""

import datetime
import uuid

import pytest
from django.utils import timezone

from attendance import services
from attendance.events import AttendanceAction
from attendance.models import ClassSession, DayClose, Handoff, HandoffDispute, PickupAdult
from attendance.pickup import daily_code
from attendance.selectors import expected_in
from schools.models import AuditEntry
from tests.attendance.conftest import session  # noqa: F401  fixture
from tests.browser.conftest import PHONE, login
from tests.factories import PASSWORD
from tests.scheduling.conftest import (  # noqa: F401  fixtures
    activities,
    allocated,
    apply_for,
    class_approved,
    enrol,
    enrolled,
    enrolment,
    late_joiners,
    menu,
    monday,
    monday_choices,
    plan,
    published,
    submitted,
    teachers,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Sends again every handoff the tablet's queue holds as sent, as a tablet does when a reply was
# lost, and tells whether each answer is the one first received.
REPLAY_SENT = """async () => {
  const db = await idb.openDB("kehou-tablet", 1);
  const sent = (await db.getAll("writes")).filter(i => i.kind === "handoff" && i.state === "sent");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  return Promise.all(sent.map(async i => {
    const r = await fetch(i.url, {method: "POST", body: JSON.stringify(i.body),
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}});
    const body = await r.json();
    return {status: r.status, same: r.status < 300 && body.id === i.reply.id};
  }));
}"""
TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 2,
          "is_mobile": True, "has_touch": True}


@pytest.fixture
def hall(cast, session, allocated, late_joiners):  # noqa: F811
    """A Tuesday study hall of at least eight children who joined late, served by `teacher`."""
    late_joiners(10, seated=True)
    day = session.date + datetime.timedelta(days=1)
    hall = max(ClassSession.objects.filter(school=cast.school, date=day),
               key=lambda s: len(expected_in(s)))
    assert len(expected_in(hall)) >= 8
    return services.session_set_teacher(session=hall, teacher=cast.teacher.staff_profile,
                                        user=cast.principal, reason="代课")


def _context(browser, live_server, size):
    context = browser.new_context(**size, locale="zh-CN", base_url=live_server.url,
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    context.set_default_timeout(15000)
    return context


def _hand_over(page, student, *, code: str = "") -> None:
    row = page.locator(f"#child-{student.pk}")
    if code:
        row.locator("input[name=pickup_code]").fill(code)
    else:
        row.locator("select[name=pickup_person]").select_option(index=1)
    row.locator("button[value=guardian]").click()


def _released_others(cast, hall) -> None:
    """The other classes of the day are let go by their own teachers (not on this tablet)."""
    for other in ClassSession.objects.filter(school=cast.school, date=hall.date).exclude(
            pk=hall.pk):
        for e in expected_in(other):
            if e.present and e.handoff is None:
                services.handoff_release(
                    session=other, user=cast.principal, client_id=uuid.uuid4(),
                    data={"student": e.student.pk, "released_to": "guardian",
                          "pickup_code": daily_code(e.student.pk, other.date)})


def test_tablet_roll_incident_handoffs_offline_and_day_close(browser, live_server, cast, hall):
    children = [e.student for e in expected_in(hall)]
    absent, unwell, *rest = children
    tablet = _context(browser, live_server, TABLET)
    page = tablet.new_page()
    login(page, "teacher", PASSWORD)
    page.goto(f"/attendance/sessions/{hall.pk}/")
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    # Roll call: everyone present by default; one child absent.
    page.locator(f"[data-roll='{absent.pk}'] label:has(input[value=absent])").click()
    page.click("#roll button[type=submit]")
    page.wait_for_selector("#roll h2 .sync-tag.tag-ok")
    assert hall.marks.filter(student=absent, status="absent").exists()
    assert page.locator(f"#child-{absent.pk}").is_hidden()

    # An incident: the guardians hear at once.
    page.select_option("#incident select[name=student]", str(unwell.pk))
    page.select_option("#incident select[name=kind]", "unwell")
    page.fill("#incident textarea[name=note]", "头疼，已在医务室休息")
    page.click("#incident button[type=submit]")
    page.wait_for_selector("#incident-sent li:has-text('已发送')")
    assert hall.incidents.filter(student=unwell, kind="unwell").count() == 1

    # Three handoffs online, the third by the child's code.
    first, second, by_code, offline_a, offline_b, *left = rest + [unwell]
    _hand_over(page, first)
    _hand_over(page, second)
    _hand_over(page, by_code, code=daily_code(by_code.pk, hall.date))
    page.wait_for_selector(f"#child-{by_code.pk} .sync-tag.tag-ok")
    assert Handoff.objects.filter(session=hall).count() == 3
    assert Handoff.objects.get(session=hall, student=by_code).via == "code"

    # The network drops: two more wait on the tablet.
    tablet.set_offline(True)
    _hand_over(page, offline_a)
    _hand_over(page, offline_b)
    page.wait_for_selector("#sync-count:has-text('待发送 (2)')")
    assert page.locator("#sync").is_visible()
    assert Handoff.objects.filter(session=hall).count() == 3
    # The page reopens offline from the tablet's copy, still showing them waiting.
    page.reload()
    page.wait_for_selector(f"#child-{offline_a.pk} .sync-tag.tag-warn")
    assert "待发送" in page.locator(f"#child-{offline_b.pk} .sync-tag").inner_text()

    # The principal cannot close the day while children are left.
    _released_others(cast, hall)
    office = _context(browser, live_server, PHONE)
    principal = office.new_page()
    login(principal, "principal", PASSWORD)
    principal.goto(f"/attendance/days/{hall.date.isoformat()}/")
    principal.click("#close button[type=submit]")
    assert "未交接" in principal.locator(".msg-error").inner_text()
    left_list = principal.locator("#close").text_content()
    assert offline_a.name in left_list and offline_b.name in left_list
    assert not DayClose.objects.filter(school=cast.school, date=hall.date).exists()

    # Back online: the two are sent, once each.
    tablet.set_offline(False)
    page.wait_for_selector("#sync", state="hidden")
    rows = Handoff.objects.filter(session=hall, student__in=[offline_a, offline_b])
    assert rows.count() == 2
    assert all(h.received_at > h.occurred_at for h in rows)
    # A reply lost with the network means the tablet sends again: the same answer, no write.
    replays = page.evaluate(REPLAY_SENT)
    assert len(replays) == 5 and all(r["same"] for r in replays), replays
    assert Handoff.objects.filter(session=hall).count() == 5
    assert AuditEntry.objects.filter(action=AttendanceAction.HANDED_OFF,
                                     object_id__in=[str(h.pk) for h in rows]).count() == 2

    # Still refused until the last child is handed over.
    principal.reload()
    principal.click("#close button[type=submit]")
    assert "未交接" in principal.locator(".msg-error").inner_text()
    assert left[0].name in principal.locator("#close").text_content()
    assert offline_a.name not in principal.locator("#close").text_content()
    for student in left:
        _hand_over(page, student)
        page.wait_for_selector(f"#child-{student.pk} .sync-tag.tag-ok")
    principal.reload()
    principal.click("#close button[type=submit]")
    principal.wait_for_selector("text=已日终确认")
    assert DayClose.objects.filter(school=cast.school, date=hall.date).exists()
    tablet.close()
    office.close()


def test_guardian_adds_an_adult_and_hears_of_the_handoff(browser, live_server, cast, session):  # noqa: F811
    context = _context(browser, live_server, PHONE)
    page = context.new_page()
    login(page, "parent", PASSWORD)
    page.goto(f"/attendance/children/{cast.child.pk}/")
    page.fill("#adults input[name=name]", "李芳")
    page.fill("#adults input[name=relation]", "奶奶")
    page.fill("#adults input[name=phone]", "13912345678")
    page.click("#adults button[type=submit]")
    page.wait_for_selector("#adults li:has-text('李芳')")
    adult = PickupAdult.objects.get(student=cast.child, name="李芳")

    # The teacher hands the child to her; the guardian is told who and when.
    when = timezone.now()
    services.handoff_release(
        session=session, user=cast.teacher, client_id=uuid.uuid4(),
        data={"student": cast.child.pk, "released_to": "guardian",
              "pickup_person": f"a{adult.pk}"})
    page.goto("/notifications/")
    notice = page.locator("main").inner_text()
    assert "李芳" in notice and timezone.localtime(when).strftime("%H:%M")[:4] in notice

    # "That was not us": the school is alerted.
    page.goto(f"/attendance/children/{cast.child.pk}/")
    page.click("#recent button[type=submit]")
    page.wait_for_selector("text=已通知学校")
    assert HandoffDispute.objects.filter(handoff__student=cast.child).count() == 1
    context.close()

