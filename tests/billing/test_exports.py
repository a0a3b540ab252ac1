"""Finance's reports as XLSX and CSV: the numbers are numbers, text that looks like a formula
stays text, the school's finance and principal download them and no one else, and LibreOffice
opens the workbook as it is."""

import csv
import io
import shutil
import subprocess

import openpyxl
import pytest
from django.test import Client

from billing import services
from billing.models import Payment
from tests.conftest import require_service

from .test_settlement import after_term, on, pay, settle

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def booked(cast, charged):
    pay(cast, cast.child, "30.00", "a")
    reply = services.payment_record(user=cast.finance, key="b", student=cast.sibling,
                                    term=cast.term, amount=services.Decimal("12.50"),
                                    method="cash")
    services.payment_void(payment=Payment.objects.get(pk=reply.body["id"]), user=cast.finance,
                          reason="=HYPERLINK(\"http://x\")")
    return cast


def test_the_register_is_numbers_and_text_that_stays_text(booked):
    response = client_for(booked.finance).get(f"/billing/exports/register.xlsx?term="
                                              f"{booked.term.pk}")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "收据号" and len(rows) == 4
    amounts = [r[7] for r in rows[1:]]
    assert amounts == [30, 12.5, -12.5]
    void = next(c for c in sheet[4] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert void.data_type == "s" and void.quotePrefix
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:L4"
    assert sheet.cell(row=2, column=8).number_format == "#,##0.00"


def test_the_csv_keeps_formula_text_inert(booked):
    response = client_for(booked.principal).get(f"/billing/exports/register.csv?term="
                                                f"{booked.term.pk}")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "收据号"
    assert "'=HYPERLINK(\"http://x\")" in [cell for row in rows for cell in row]


def test_every_report_downloads_for_finance_and_no_one_else(booked):
    with on(after_term(booked)):
        settle(booked)
        finance = client_for(booked.finance)
        for report in ("register", "journal", "trial-balance", "spending", "refunds"):
            for fmt in ("xlsx", "csv"):
                assert finance.get(f"/billing/exports/{report}.{fmt}").status_code == 200
        for user in (booked.parent, booked.teacher, booked.officer):
            assert client_for(user).get("/billing/exports/register.xlsx").status_code == 404
    # A month without a payroll is not there; a bad month is a message naming it.
    assert finance.get("/billing/exports/payroll.xlsx?month=2020-01").status_code == 404
    bad = client_for(booked.finance).get("/billing/exports/payroll.xlsx?month=13")
    assert bad.status_code == 400
    assert client_for(booked.finance).get("/billing/exports/ledger.pdf").status_code == 404


def test_libreoffice_opens_the_workbook(booked, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    require_service(office is not None, "LibreOffice (libreoffice-calc-nogui) is not installed")
    response = client_for(booked.finance).get("/billing/exports/journal.xlsx")
    path = tmp_path / "journal.xlsx"
    path.write_bytes(response.content)
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    # Comma-separated, quoted, in UTF-8 (76).
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                    "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=120)
    converted = (tmp_path / "journal.csv").read_text(encoding="utf-8")
    assert converted.splitlines()[0].startswith("凭证号")
    assert len(converted.splitlines()) > 4
