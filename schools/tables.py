"""Reports as tables, written to XLSX and CSV the same way everywhere (finance's registers,
the district's workbooks).

Text that looks like a formula (it begins with =, +, -, @, a tab or a carriage return) stays
text: an XLSX text cell (with Excel's quote prefix, so editing keeps it text), and in CSV a
leading apostrophe. Numbers stay numbers, in the column's number format; rates are fractions
shown as percentages."""

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from io import BytesIO, StringIO

import xlsxwriter
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY = "#,##0.00"
COUNT = "#,##0"
RATE = "0.00%"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def download(content: bytes, filename: str, content_type: str = XLSX_CONTENT_TYPE
             ) -> HttpResponse:
    """A file for the browser to save under `filename` (Chinese names kept, RFC 6266)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


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
    numeric columns by header.

    `rows` may be any iterable, a generator included: it is read once, as the sheet is written,
    so a quarter of a million rows need never be held at once. `written` is how many rows the
    sheet got. A table marked `last` is written after the others (its rows, a generator, may
    read their `written`) though its sheet stays where it is in the workbook."""

    title: str
    headers: list[str]
    rows: Iterable[Sequence] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    widths: dict[str, int] = field(default_factory=dict)
    last: bool = False
    written: int = 0


def tables_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table: headers bold and frozen, an autofilter over the rows, numbers in
    their formats. Written row by row in constant memory (xlsxwriter), so a sheet of a
    quarter of a million rows costs little more than one row."""
    buffer = BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": False,
                                        "strings_to_formulas": False,
                                        "strings_to_urls": False,
                                        "strings_to_numbers": False})
    header = book.add_format({"bold": True, "bg_color": "#E4E7EB"})
    text = book.add_format({"quote_prefix": True})
    formats: dict[str, object] = {}
    sheets = [(table, book.add_worksheet(table.title[:31])) for table in tables]
    for table, sheet in sorted(sheets, key=lambda pair: pair[0].last):
        for col, name in enumerate(table.headers):
            width = table.widths.get(name, max(10, min(40, 2 * len(name) + 4)))
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, name, header)
        cells = [table.formats.get(h) for h in table.headers]
        for fmt in cells:
            if fmt and fmt not in formats:
                formats[fmt] = book.add_format({"num_format": fmt})
        r = 0
        for r, row in enumerate(table.rows, start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                    sheet.write_string(r, col, value,
                                       text if value.startswith(FORMULA_PREFIXES) else None)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, col, value)
                else:
                    fmt = cells[col]
                    sheet.write_number(r, col, float(value), formats[fmt] if fmt else None)
        table.written = r
        sheet.freeze_panes(1, 0)
        if r:
            sheet.autofilter(0, 0, r, len(table.headers) - 1)
    book.close()
    return buffer.getvalue()


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
