"""The school's roster as a workbook in the import columns, to edit and import again."""

import openpyxl

from ..models import School
from .resource import RosterResource
from .workbook import set_text, workbook_bytes, write_headers


def roster_export_xlsx(*, school: School) -> bytes:
    """The school's roster in the import columns (a file that can be edited and re-imported)."""
    resource = RosterResource(school=school)
    dataset = resource.export(resource.get_queryset().order_by(
        "grade__number", "homeroom__name", "student_no"))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "学生名册"
    write_headers(sheet, dataset.headers)
    for row_index, values in enumerate(dataset, start=2):
        for col, value in enumerate(values, start=1):
            set_text(sheet.cell(row=row_index, column=col), value)
    return workbook_bytes(workbook)
