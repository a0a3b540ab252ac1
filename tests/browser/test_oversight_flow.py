"""The district on a tablet: the dashboard with its charts drawn, a school's page, and the
compliance workbook downloaded once its progress completes."""

import io

import openpyxl
import pytest
from playwright.sync_api import expect

from oversight.models import Workbook, WorkbookDownload
from tests.browser.conftest import login
from tests.factories import PASSWORD
from tests.scheduling.conftest import enrol, enrolled, plan  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 1}


@pytest.mark.usefixtures("enrolled")
def test_district_reads_the_dashboard_follows_a_school_and_downloads_the_workbook(
        cast, browser, live_server):
    context = browser.new_context(**TABLET, locale="zh-CN", base_url=live_server.url,
                                  accept_downloads=True)
    page = context.new_page()
    try:
        login(page, cast.officer.username, PASSWORD)
        page.goto("/oversight/")
        # The charts are drawn (SVG), and each has its table.
        expect(page.locator("#ranking-chart svg")).to_be_visible()
        expect(page.locator("#trend-chart svg")).to_be_visible()
        assert cast.school.name in page.locator("#ranking table").inner_text()
        assert page.locator("#compliance td.fail, #compliance td.pass").count() > 0
        page.click(f"#ranking a:has-text('{cast.school.name}')")
        expect(page.locator("#indicators")).to_contain_text("参加课后服务的学生")
        page.go_back()
        page.click("#workbook-button")
        expect(page.locator("#workbook-download")).to_be_visible(timeout=30000)
        with page.expect_download() as download:
            page.click("#workbook-download")
        book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
        assert book.sheetnames[:5] == ["说明", "区县汇总", "学校明细", "考勤", "收退费"]
        assert Workbook.objects.get().status == "done"
        assert WorkbookDownload.objects.count() == 1
    finally:
        context.close()
