"""Reading an uploaded roster workbook into a Dataset of strings.

The workbook is read here with openpyxl (data_only=False) rather than by import-export's XLSX
format, which reads cached formula results: a formula cell is kept as the text of the formula,
never evaluated.
"""

import datetime
import logging
import re
from collections import Counter
from decimal import Decimal
from io import BytesIO

import openpyxl
import tablib
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..errors import DomainError
from .columns import HEADERS, MAX_FILE_BYTES, MAX_ROWS, NO, REQUIRED_HEADERS, YES

logger = logging.getLogger(__name__)


class RosterFileError(DomainError):
    """The upload is not a usable roster workbook (not XLSX, wrong headers, empty)."""

    code = "roster_file_invalid"
    default_message = gettext_lazy("无法读取文件。")


def cell_text(value) -> str:
    """A cell value as text: 13800138000 → "13800138000", 3.0 → "3", a formula cell →
    its formula, verbatim ("=1+2"), never evaluated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    text = getattr(value, "text", None)  # ArrayFormula and friends
    if isinstance(text, str):
        value = text
    return str(value).strip()


def read_roster_xlsx(content: bytes) -> tuple[tablib.Dataset, list[int]]:
    """The first sheet as a Dataset of strings, keeping only the known columns, with the sheet
    row number (header = 1) of each data row. Blank rows are left out."""
    if not content:
        raise RosterFileError(_("文件是空的，请选择填写好的名册文件。"))
    if len(content) > MAX_FILE_BYTES:
        raise RosterFileError(_("文件太大（最大 5 MB）。"))
    try:
        workbook = openpyxl.load_workbook(BytesIO(content), read_only=True, data_only=False)
    except Exception:  # zip, XML or format errors: whatever it is, it is not our workbook
        raise RosterFileError(
            _("无法读取文件，请上传用模板填写的 Excel 文件（.xlsx 格式）。")) from None
    try:
        return _read_sheet(workbook)
    except RosterFileError:
        raise
    except Exception:
        logger.info("roster workbook could not be read", exc_info=True)
        raise RosterFileError(
            _("无法读取文件，请上传用模板填写的 Excel 文件（.xlsx 格式）。")) from None
    finally:
        workbook.close()


def _read_sheet(workbook) -> tuple[tablib.Dataset, list[int]]:
    if not workbook.worksheets:
        raise RosterFileError(_("文件中没有工作表。"))
    sheet = workbook.worksheets[0]
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, None)
    headers = [re.sub(r"\s+", "", cell_text(v)) for v in (header_row or ())]
    if not any(headers):
        raise RosterFileError(_("文件是空的：第一行应为表头（年级、班级、学号、姓名……）。"))
    seen = Counter(h for h in headers if h)
    if duplicated := [h for h, n in seen.items() if n > 1]:
        raise RosterFileError(_("表头重复：%(columns)s。请使用模板。")
                              % {"columns": "、".join(duplicated)})
    if missing := [h for h in REQUIRED_HEADERS if h not in seen]:
        raise RosterFileError(_("表头不正确，缺少列：%(columns)s。请下载模板，按模板的表头填写。")
                              % {"columns": "、".join(missing)})
    positions = [(headers.index(h), h) for h in HEADERS if h in seen]
    dataset = tablib.Dataset(headers=[h for _i, h in positions])
    sheet_rows = []
    for number, values in enumerate(rows, start=2):
        texts = [cell_text(values[i]) if i < len(values) else "" for i, _h in positions]
        if not any(texts):
            continue
        if len(sheet_rows) >= MAX_ROWS:
            raise RosterFileError(_("一次最多导入 %(max)s 名学生，请分批导入。")
                                  % {"max": MAX_ROWS})
        dataset.append(texts)
        sheet_rows.append(number)
    if not sheet_rows:
        raise RosterFileError(_("文件中没有学生数据（表头下方是空的）。"))
    return dataset, sheet_rows
