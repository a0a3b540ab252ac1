"""The compliance workbook: built in the background (eager here) from the indicator module,
with its sheets, frozen headers, autofilters, number formats and rates as fractions; formula
text stays text; names masked; LibreOffice opens it; each workbook and each download is a
record; another district's staff cannot reach it."""

import io
import shutil
import subprocess

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from oversight import indicators
from oversight.models import Workbook, WorkbookDownload
from oversight.workbooks import mask
from schools.models import School, Student
from tests.conftest import require_service
from tests.scheduling.conftest import enrol, enrolled, plan  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _build(cast, **params):
    officer = client_for(cast.officer)
    query = "&".join(f"{k}={v}" for k, v in {"district": cast.district.pk, **params}.items())
    response = officer.get(f"/oversight/workbooks/compliance.xlsx?{query}")
    assert response.status_code == 302, response.content[:300]
    workbook = Workbook.objects.latest("pk")
    assert workbook.status == Workbook.Status.DONE, workbook.error
    page = officer.get(response["Location"]).content.decode()
    assert "下载工作簿" in page
    download = officer.get(f"/oversight/workbooks/{workbook.pk}/download/")
    assert download.status_code == 200
    return workbook, openpyxl.load_workbook(io.BytesIO(download.content))


@pytest.mark.usefixtures("enrolled")
def test_the_workbook_has_its_sheets_and_the_dashboards_figures(cast):
    Student.objects.filter(pk=cast.child.pk).update(name="=HYPERLINK(\"x\")")
    workbook, book = _build(cast, term=cast.term.pk, school=cast.school.pk)
    assert book.sheetnames == ["说明", "区县汇总", "学校明细", "考勤", "收退费", "学生明细"]
    p = indicators.participation(
        list(School.objects.filter(district=cast.district).select_related("district")
             .order_by("code")), timezone.localdate(), cast.term.name)
    summary = book["区县汇总"]
    assert summary["E2"].value == p.total("students_served")
    assert summary["F2"].value == pytest.approx(float(p.student_rate))
    assert summary["F2"].number_format == "0.00%"
    assert summary["A2"].number_format == "#,##0"
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes == "A2"
    assert book["学校明细"].auto_filter.ref.startswith("A1:")
    names = [c.value for c in book["学生明细"]["A"][1:]]
    assert all("*" in n for n in names) and "=" in "".join(names)
    formula = next(c for c in book["学生明细"]["A"][1:] if c.value.startswith("="))
    assert formula.data_type == "s"
    notes = {r[0].value: r[1].value for r in book["说明"].iter_rows(min_row=2)}
    assert notes["生成人"] and notes["行数：学校明细"] == "2"
    # The pupils are read as their sheet is written; 说明, written last, counts them.
    assert notes["行数：学生明细"] == str(len(names)) != "0"
    assert workbook.personal_data and workbook.rows["学生明细"] == len(names)
    assert WorkbookDownload.objects.filter(workbook=workbook, user=cast.officer).count() == 1


@pytest.mark.usefixtures("enrolled")
def test_the_same_workbook_today_downloads_at_once(cast):
    workbook, _book = _build(cast)
    again = client_for(cast.officer).get(
        f"/oversight/workbooks/compliance.xlsx?district={cast.district.pk}")
    assert again.status_code == 200 and again["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    assert Workbook.objects.count() == 1 and workbook.downloads.count() == 2


@pytest.mark.usefixtures("enrolled")
def test_only_the_districts_staff_reach_its_workbooks(cast):
    workbook, _book = _build(cast)
    c = client_for(cast.officer2)
    assert c.get(f"/oversight/workbooks/{workbook.pk}/download/").status_code == 404
    assert c.get(f"/oversight/workbooks/compliance.xlsx?district="
                 f"{cast.district.pk}").status_code == 404
    for user in (cast.principal, cast.parent, cast.teacher):
        c = client_for(user)
        assert c.get(f"/oversight/workbooks/{workbook.pk}/download/").status_code == 403
        assert c.get(f"/oversight/workbooks/compliance.xlsx?district="
                     f"{cast.district.pk}").status_code == 403


@pytest.mark.usefixtures("enrolled")
def test_libreoffice_opens_the_workbook(cast, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    require_service(office is not None, "LibreOffice (libreoffice-calc-nogui) is not installed")
    workbook, _book = _build(cast)
    path = tmp_path / "compliance.xlsx"
    path.write_bytes(bytes(Workbook.objects.get(pk=workbook.pk).content))
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                    "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=120)
    assert (tmp_path / "compliance.csv").read_text(encoding="utf-8").startswith("项目")


@pytest.mark.parametrize("name,masked", [("张小明", "张*明"), ("李芳", "李*"),
                                         ("欧阳明月", "欧**月"), ("王", "王")])
def test_names_are_masked(name, masked):
    assert mask(name) == masked
