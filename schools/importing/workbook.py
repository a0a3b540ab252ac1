"""Writing workbooks: the blank template, and the header and cell helpers the export shares.

Text that looks like a formula is written as a text cell, never as a formula.
"""


import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..tables import set_text, workbook_bytes  # noqa: F401  (the export's helpers)
from .columns import HEADERS, MAX_ROWS, REQUIRED_HEADERS

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E4E7EB")
REQUIRED_FILL = PatternFill("solid", fgColor="FFF4E5")
TEXT_COLUMNS = {"学号", "监护人手机", "班级"}


def write_headers(sheet, headers) -> None:
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=col, value=header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if header in REQUIRED_HEADERS else HEADER_FILL
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = 16 if header in ("优先类别", "监护人手机") else 12
        if header in TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"


COLUMN_HELP = [
    ("年级", "必填", "数字 1–9，如 3。没有的年级会自动新建（名称如“3年级”）。", "3"),
    ("班级", "必填", "行政班名称，如“1班”。本年级没有的班级会自动新建。", "1班"),
    ("班主任", "选填", "填本校教职工姓名；找不到同名教职工时不设置。", "王静怡"),
    ("学号", "必填", "本校唯一。学号已存在的学生会被更新，否则新建。", "202601001"),
    ("姓名", "必填", "学生姓名。", "张小明"),
    ("性别", "选填", "男 / 女，或留空。", "男"),
    ("寄宿", "选填", "是 / 否，留空视为否。", "否"),
    ("乘坐校车", "选填", "是 / 否，留空视为否。", "是"),
    ("优先类别", "选填", "可填多个，用逗号或顿号分隔：残疾儿童、留守儿童、进城务工人员随迁子女、"
                       "家庭经济困难、双职工家庭。", "双职工家庭"),
    ("监护人姓名", "选填", "新监护人必填；按手机号已找到的监护人不会改名。", "张伟"),
    ("监护人手机", "选填", "11 位手机号码，监护人以此登录。一位监护人有多个孩子时，"
                         "每个孩子一行，填同一个手机号。", "13800138000"),
    ("关系", "填监护人时必填", "父亲 / 母亲 / 祖父母 / 外祖父母 / 其他。", "母亲"),
]


def roster_template_xlsx() -> bytes:
    """A blank roster sheet (headers only, with notes) and a 说明 sheet with an example."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "学生名册"
    write_headers(sheet, HEADERS)
    for header, need, text, _example in COLUMN_HELP:
        cell = sheet.cell(row=1, column=HEADERS.index(header) + 1)
        cell.comment = Comment(f"{need}：{text}", "课后服务")
    choices = {"性别": '"男,女"', "寄宿": '"是,否"', "乘坐校车": '"是,否"',
               "关系": '"父亲,母亲,祖父母,外祖父母,其他"'}
    for header, formula in choices.items():
        letter = get_column_letter(HEADERS.index(header) + 1)
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        sheet.add_data_validation(validation)

    notes = workbook.create_sheet("说明")
    notes.append(["列名", "是否必填", "填写说明", "示例"])
    for cell in notes[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for header, need, text, example in COLUMN_HELP:
        notes.append([header, need, text, example])
        for cell in notes[notes.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    notes.append([])
    notes.append(["只导入第一个工作表“学生名册”；本页仅作说明，不会被导入。"])
    notes.append(["上传后先预览，全部行无误才能确认导入；有任何错误时不会导入任何数据。"])
    notes.append([])
    notes.append(["示例行（请填到“学生名册”工作表）："])
    grey = Font(color="808080", italic=True)
    notes.append(HEADERS)
    for cell in notes[notes.max_row]:
        cell.font = HEADER_FONT
    notes.append([example for _h, _n, _t, example in COLUMN_HELP])
    for cell in notes[notes.max_row]:
        cell.font = grey
        cell.data_type = "s"
    for letter, width in zip("ABCD", (12, 14, 60, 16), strict=True):
        notes.column_dimensions[letter].width = width
    return workbook_bytes(workbook)
