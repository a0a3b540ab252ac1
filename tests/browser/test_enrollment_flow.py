"""The whole enrollment path on a phone, as its users walk it: the guardian reads the plan,
applies with a priority claim and signs; the homeroom teacher approves; the principal
approves; the guardian sees the enrolment and the decision in the notification centre."""

import pytest

from enrollment.models import Application, Enrolment
from tests.browser.conftest import login
from tests.enrollment.conftest import plan  # noqa: F401  (the published plan fixture)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page):
    page.context.clear_cookies()


@pytest.mark.usefixtures("plan")
def test_parent_applies_and_both_reviewers_approve_on_a_phone(cast, phone):
    # The guardian reads the plan and applies for the first child.
    login(phone, "parent", PASSWORD)
    phone.click("text=报名与在读")
    card = phone.locator(f"#student-{cast.child.pk}")
    card.locator("text=阅读").click()
    assert "安全责任书" in phone.locator("main").inner_text()
    assert "0356-2020123" in phone.locator("main").inner_text()
    phone.click("text=为张小明报名")

    phone.check("input[name=slots] >> nth=0")
    phone.check("input[name=slots] >> nth=1")
    phone.check("input[name=priority_claims][value=dual_working]")
    phone.fill("#id_signed_name", "张伟")
    phone.check("#id_confirm")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.click("button[type=submit] >> text=签名并提交")
    phone.wait_for_load_state("networkidle")
    assert "已提交" in phone.locator("main").inner_text()
    application = Application.objects.get(student=cast.child)
    assert application.priority_claims == ["dual_working"]
    assert application.signatures.get().signed_name == "张伟"

    # The homeroom teacher approves from the class queue.
    _logout(phone)
    login(phone, "homeroom", PASSWORD)
    phone.click("text=班级审核")
    phone.check(f"input[name=ids][value='{application.pk}']")
    phone.click("text=批量通过所选")
    phone.wait_for_load_state("networkidle")
    application.refresh_from_db()
    assert application.status == "class_approved"

    # The principal approves on the application page.
    _logout(phone)
    login(phone, "principal", PASSWORD)
    phone.click("text=报名审定")
    phone.click(f"a[href='/enrollment/applications/{application.pk}/']")
    phone.select_option("#id_decision", "approve")
    phone.click("text=提交审定结果")
    phone.wait_for_load_state("networkidle")
    application.refresh_from_db()
    assert application.status == "approved"

    # The guardian sees the enrolment and the decision.
    _logout(phone)
    login(phone, "parent", PASSWORD)
    phone.click("text=报名与在读")
    card = phone.locator(f"#student-{cast.child.pk}")
    assert "在读" in card.inner_text()
    assert Enrolment.objects.filter(student=cast.child, status="active").exists()
    phone.click(".bell")
    assert "已批准" in phone.locator("main").inner_text()
