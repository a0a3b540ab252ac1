"""The demo district tells the dashboard's story, and the dashboard, the API and the workbook
show the same numbers for it."""

import io

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from oversight import indicators
from oversight.models import Workbook
from oversight.workbooks import build
from schools.models import School, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def district(db, demo_once):
    return User.objects.get(username="district")


def test_each_school_has_its_shape(district):
    schools = list(School.objects.filter(code__startswith="DEMO-").select_related("district")
                   .order_by("code"))
    p = indicators.participation(schools, timezone.localdate(), with_compliance=True)
    by_code = {f.school.code: f for f in p.schools}
    small, middle, primary = by_code["DEMO-P2"], by_code["DEMO-M1"], by_code["DEMO-P1"]
    west = by_code["DEMO-P3"]
    # One meets everything; one is under 90%; one ends too early; one has no fee standard.
    assert small.at_target and small.compliance.five_plus_two
    assert small.compliance.end_time_ok and small.compliance.fee_within_cap
    assert not primary.at_target and primary.compliance.fee_published
    assert primary.compliance.end_time_ok
    assert middle.compliance.end_time_ok is False and middle.compliance.fee_published
    assert not middle.at_target
    assert west.at_target and west.compliance.end_time_ok
    assert not west.compliance.fee_published and west.compliance.fee_within_cap is None


def test_the_dashboard_the_api_and_the_workbook_agree(district):
    client = Client()
    client.force_login(district)
    page = client.get("/oversight/")
    p = page.context["p"]
    api = client.get("/api/v1/oversight/participation/").json()
    workbook = Workbook.objects.create(district=p.schools[0].school.district,
                                       as_of=timezone.localdate(), requested_by=district)
    sheet = openpyxl.load_workbook(io.BytesIO(build(workbook, lambda *a: None)))["区县汇总"]
    served, students = p.total("students_served"), p.total("students")
    assert api["totals"]["students_served"] == served == sheet["E2"].value
    assert api["totals"]["students"] == students == sheet["D2"].value
    assert api["totals"]["student_rate"] == f"{p.student_rate:.4f}"
    assert sheet["F2"].value == pytest.approx(float(p.student_rate))
    assert f"{served} 人" in page.content.decode()
