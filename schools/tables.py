"""Reports as tables, written to XLSX and CSV the same way everywhere (finance's registers,
the district's workbooks).

Text that looks like a formula (it begins with =, +, -, @, a tab or a carriage return) stays
text: an XLSX text cell (with Excel's quote prefix, so editing keeps it text), and in CSV a
leading apostrophe. Numbers stay numbers, in the column's number format; rates are fractions
shown as percentages."""

import csv
from dataclasses import dataclass, field
from io import BytesIO, StringIO

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY = "#,##0.00"
COUNT = "#,##0"
RATE = "0.00%"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E4E7EB")


def set_text(cell, value) -> None:
    """Write a value; text stays text even when it looks like a formula ("=1+2")."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        cell.data_type = "s"
        if value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True  # Excel keeps it as text when the cell is edited
    else:
        cell.value = value


def workbook_bytes(workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class Table:
    """A sheet: its title (at most 31 characters), headers, rows, and the number format of
    numeric columns by header."""

    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    widths: dict[str, int] = field(default_factory=dict)


def tables_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table: headers bold and frozen, an autofilter over the rows, numbers in
    their formats."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.title[:31])
        for col, header in enumerate(table.headers, start=1):
            cell = sheet.cell(row=1, column=col, value=header)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            sheet.column_dimensions[get_column_letter(col)].width = table.widths.get(
                header, max(10, min(40, 2 * len(header) + 4)))
        formats = [table.formats.get(h) for h in table.headers]
        for r, row in enumerate(table.rows, start=2):
            for col, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=col)
                set_text(cell, value)
                if formats[col - 1] and not isinstance(value, str):
                    cell.number_format = formats[col - 1]
        sheet.freeze_panes = "A2"
        if table.rows:
            sheet.auto_filter.ref = (f"A1:{get_column_letter(len(table.headers))}"
                                     f"{len(table.rows) + 1}")
    return workbook_bytes(workbook)


def _csv_value(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def table_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text as it is."""
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
