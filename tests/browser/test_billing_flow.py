"""Money on a phone, as its users walk it: the finance officer records a family's payment and
opens its receipt to print; the guardian reads the child's statement, paid, with the receipt."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import Payment
from billing.selectors import statement
from tests.billing.conftest import fee, publish_fee  # noqa: F401
from tests.browser.conftest import login
from tests.factories import PASSWORD
from tests.scheduling.conftest import enrol, enrolled, plan  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page):
    page.context.clear_cookies()


def test_finance_records_and_prints_a_receipt_the_parent_sees_it_paid(
        cast, fee, enrolled, phone):  # noqa: F811
    owed = statement(cast.child, cast.term).balance
    assert owed > 0
    login(phone, "finance", PASSWORD)
    phone.click("text=收费")
    phone.click("a[href='/billing/register/']")
    phone.select_option("select[name=student]", str(cast.child.pk))
    phone.fill("input[name=amount]", f"{owed:.2f}")
    phone.check("input[name=method][value=wechat]")
    phone.fill("input[name=reference]", "4200009876543")
    phone.click("#record-payment")
    expect(phone.locator("#receipt")).to_contain_text(f"{owed:.2f}")
    payment = Payment.objects.get(student=cast.child)
    assert phone.locator("#receipt-no").inner_text() == payment.receipt_no
    # Printing shows the receipt only: the buttons and the top bar are not on paper.
    phone.emulate_media(media="print")
    assert phone.locator("#print-receipt").is_hidden()
    assert phone.locator("#receipt").is_visible()
    phone.emulate_media(media="screen")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    _logout(phone)
    login(phone, "parent", PASSWORD)
    phone.click("text=收费")
    phone.click(f"a[href='/billing/students/{cast.child.pk}/']")
    expect(phone.locator("#balance")).to_contain_text("已结清")
    assert f"{owed:.2f}" in phone.locator("#charges").inner_text()
    assert payment.receipt_no in phone.locator("#payments").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # The sibling owes the term: the page says how much.
    phone.goto(f"/billing/students/{cast.sibling.pk}/")
    sibling_owes = statement(cast.sibling, cast.term).balance
    assert sibling_owes > Decimal(0)
    expect(phone.locator("#balance")).to_contain_text(f"还需缴费 {sibling_owes:.2f} 元")
    # Another family's child is not there.
    response = phone.goto(f"/billing/students/{cast.other_child.pk}/")
    assert response.status == 404
