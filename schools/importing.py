"""Roster import and export as XLSX (one sheet, one row per student, Chinese headers).

The flow: a principal or the after-school office uploads a workbook →
`roster_import_preview` reads it, runs the import as a dry run and keeps the file
(RosterImport) → the page shows every row as new / update / error → `roster_import_confirm`
imports the very same file. All or nothing: one bad row and nothing is written.

The workbook is read here with openpyxl (data_only=False) rather than by import-export's XLSX
format, which reads cached formula results: a formula cell is kept as the text of the formula,
never evaluated. On export, text that looks like a formula is written as a text cell.

Column headers and cell values (男/女, 是/否, 父亲…) are the file format, not interface text:
they stay Chinese whatever the interface language.
"""

import datetime
import logging
import re
from collections import Counter
from decimal import Decimal
from io import BytesIO

import openpyxl
import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import resources, widgets
from import_export.fields import Field
from import_export.results import RowResult
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .audit import audit_record
from .errors import Conflict, DomainError
from .models import (
    Grade,
    Guardian,
    GuardianStudent,
    Homeroom,
    PriorityCategory,
    RosterImport,
    School,
    Staff,
    Student,
    User,
)

logger = logging.getLogger(__name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000

# Resource field name → column header, in sheet order.
COLUMNS = {
    "grade": "年级",
    "homeroom": "班级",
    "head_teacher": "班主任",
    "student_no": "学号",
    "name": "姓名",
    "gender": "性别",
    "boarding": "寄宿",
    "bus_rider": "乘坐校车",
    "priority_categories": "优先类别",
    "guardian_name": "监护人姓名",
    "guardian_phone": "监护人手机",
    "relation": "关系",
}
HEADERS = list(COLUMNS.values())
REQUIRED_HEADERS = ["年级", "班级", "学号", "姓名"]

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
GRADE_RE = re.compile(r"^(\d{1,2})(?:年级)?$")
LIST_SPLIT_RE = re.compile(r"[,，、;；\s]+")
FORMULA_PREFIXES = ("=", "+", "-", "@")

YES, NO = "是", "否"
GENDER_LABELS = {"男": Student.Gender.MALE, "女": Student.Gender.FEMALE}
RELATION_LABELS = {
    "父亲": GuardianStudent.Relation.FATHER,
    "母亲": GuardianStudent.Relation.MOTHER,
    "祖父母": GuardianStudent.Relation.GRANDPARENT,
    "外祖父母": GuardianStudent.Relation.GRANDPARENT,
    "祖父母/外祖父母": GuardianStudent.Relation.GRANDPARENT,
    "其他": GuardianStudent.Relation.OTHER,
    "其他监护人": GuardianStudent.Relation.OTHER,
}
RELATION_EXPORT = {
    GuardianStudent.Relation.FATHER: "父亲",
    GuardianStudent.Relation.MOTHER: "母亲",
    GuardianStudent.Relation.GRANDPARENT: "祖父母",
    GuardianStudent.Relation.OTHER: "其他",
}


class RosterFileError(DomainError):
    """The upload is not a usable roster workbook (not XLSX, wrong headers, empty)."""

    code = "roster_file_invalid"
    default_message = gettext_lazy("无法读取文件。")


def _priority_labels() -> dict[str, str]:
    """Chinese label → code, whatever the active language (the labels are the msgids)."""
    with translation.override("zh-hans"):
        return {str(label): value for value, label in PriorityCategory.choices}


def _priority_label(code: str) -> str:
    with translation.override("zh-hans"):
        try:
            return str(PriorityCategory(code).label)
        except ValueError:
            return code


# --- Reading the workbook ---------------------------------------------------------------------

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


# --- Widgets: one column each way -------------------------------------------------------------

class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return "" if value is None else str(value).strip()


class GenderWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return ""
        if text in GENDER_LABELS:
            return GENDER_LABELS[text]
        if text.upper() in Student.Gender.values:
            return text.upper()
        raise ValueError(_("只能填“男”“女”或留空"))

    def render(self, value, obj=None, **kwargs):
        return {v: k for k, v in GENDER_LABELS.items()}.get(value, "")


class YesNoWidget(widgets.Widget):
    TRUE = {YES, "Y", "YES", "TRUE", "1"}
    FALSE = {NO, "", "N", "NO", "FALSE", "0"}

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).upper()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("只能填“是”或“否”"))

    def render(self, value, obj=None, **kwargs):
        return YES if value else NO


class PriorityWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        labels = _priority_labels()
        codes, unknown = [], []
        for part in LIST_SPLIT_RE.split(cell_text(value)):
            if not part:
                continue
            code = labels.get(part, part if part in PriorityCategory.values else None)
            if code is None:
                unknown.append(part)
            elif code not in codes:
                codes.append(code)
        if unknown:
            raise ValueError(_("无法识别“%(values)s”，可填：%(allowed)s")
                             % {"values": "、".join(unknown), "allowed": "、".join(labels)})
        return codes

    def render(self, value, obj=None, **kwargs):
        return "、".join(_priority_label(code) for code in value or [])


# --- The resource -----------------------------------------------------------------------------

class RosterResource(resources.ModelResource):
    """Students of one school. Grades and homerooms are created when missing, guardians are
    found or created by phone; nothing outside `school` is read for update or written."""

    grade = Field(column_name=COLUMNS["grade"], readonly=True)
    homeroom = Field(column_name=COLUMNS["homeroom"], readonly=True)
    head_teacher = Field(column_name=COLUMNS["head_teacher"], readonly=True)
    student_no = Field(attribute="student_no", column_name=COLUMNS["student_no"],
                       widget=TextWidget())
    name = Field(attribute="name", column_name=COLUMNS["name"], widget=TextWidget())
    gender = Field(attribute="gender", column_name=COLUMNS["gender"], widget=GenderWidget())
    boarding = Field(attribute="boarding", column_name=COLUMNS["boarding"],
                     widget=YesNoWidget())
    bus_rider = Field(attribute="bus_rider", column_name=COLUMNS["bus_rider"],
                      widget=YesNoWidget())
    priority_categories = Field(attribute="priority_categories",
                                column_name=COLUMNS["priority_categories"],
                                widget=PriorityWidget())
    guardian_name = Field(column_name=COLUMNS["guardian_name"], readonly=True)
    guardian_phone = Field(column_name=COLUMNS["guardian_phone"], readonly=True)
    relation = Field(column_name=COLUMNS["relation"], readonly=True)

    class Meta:
        model = Student
        fields = tuple(COLUMNS)
        export_order = tuple(COLUMNS)
        import_id_fields = ("student_no",)
        use_transactions = True
        clean_model_instances = True
        skip_diff = True
        report_skipped = True

    def __init__(self, *, school: School, sheet_rows: list[int] | None = None):
        super().__init__()
        self.school = school
        self.sheet_rows = sheet_rows or []
        self.stats: Counter = Counter()
        self._first_row_of: dict[str, int] = {}
        self._row_errors: dict[str, list[str]] = {}
        self._row_plan: dict = {}

    # Scope: the instance loader and the export read only this school's students.
    def get_queryset(self):
        return (Student.objects.filter(school=self.school)
                .select_related("grade", "homeroom__head_teacher")
                .prefetch_related("guardian_links__guardian"))

    def sheet_row(self, row_number: int) -> int:
        if 0 < row_number <= len(self.sheet_rows):
            return self.sheet_rows[row_number - 1]
        return row_number + 1

    # --- import hooks ---

    def before_import(self, dataset, **kwargs):
        self.stats = Counter()
        self._first_row_of = {}
        column = COLUMNS["student_no"]
        for number, row in enumerate(dataset.dict, start=1):
            student_no = cell_text(row.get(column))
            if student_no:
                self._first_row_of.setdefault(student_no, number)

    def import_row(self, row, instance_loader, **kwargs):
        # A savepoint per row: a row that fails leaves nothing behind and does not break the
        # transaction for the rows after it.
        savepoint = transaction.savepoint()
        row_result = super().import_row(row, instance_loader, **kwargs)
        if row_result.import_type in (RowResult.IMPORT_TYPE_ERROR,
                                      RowResult.IMPORT_TYPE_INVALID):
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        row_result.number = kwargs.get("row_number")
        row_result.summary_values = {
            "student_no": cell_text(row.get(COLUMNS["student_no"])),
            "name": cell_text(row.get(COLUMNS["name"])),
            "grade": cell_text(row.get(COLUMNS["grade"])),
            "homeroom": cell_text(row.get(COLUMNS["homeroom"])),
        }
        return row_result

    def before_import_row(self, row, row_number=None, **kwargs):
        """Check and resolve the columns that are not plain Student fields. Errors are kept
        and raised together with the field errors (import_instance), one list per column."""
        errors: dict[str, list[str]] = {}
        plan: dict = {}

        def value(key):
            return cell_text(row.get(COLUMNS[key]))

        student_no = value("student_no")
        if not student_no:
            errors["student_no"] = [_("不能为空")]
        elif (first := self._first_row_of.get(student_no)) is not None and first != row_number:
            errors["student_no"] = [_("与第%(row)s行的学号重复")
                                    % {"row": self.sheet_row(first)}]
        if not value("name"):
            errors["name"] = [_("不能为空")]

        match = GRADE_RE.match(value("grade"))
        grade_number = int(match.group(1)) if match else None
        if grade_number is None or not 1 <= grade_number <= 9:
            errors["grade"] = [_("须为 1 到 9 的数字（如 3）")]

        homeroom_name = value("homeroom")
        if homeroom_name.isdigit():
            homeroom_name += "班"
        if not homeroom_name:
            errors["homeroom"] = [_("不能为空")]
        elif len(homeroom_name) > Homeroom._meta.get_field("name").max_length:
            errors["homeroom"] = [_("太长")]
        plan["grade_number"] = grade_number
        plan["homeroom_name"] = homeroom_name

        teacher_name = value("head_teacher")
        plan["head_teacher"] = None
        if teacher_name:
            teachers = list(Staff.objects.filter(school=self.school, name=teacher_name)[:2])
            if len(teachers) == 1:  # no match or an ambiguous name: leave unset
                plan["head_teacher"] = teachers[0]

        self._plan_guardian(value("guardian_name"), value("guardian_phone"),
                            value("relation"), plan, errors)
        self._row_errors = errors
        self._row_plan = plan

    def _plan_guardian(self, name, phone, relation_text, plan, errors):
        plan["guardian"] = None
        if not (name or phone or relation_text):
            return
        phone = re.sub(r"[\s-]", "", phone)
        if not phone:
            errors["guardian_phone"] = [_("填写了监护人，手机号码不能为空")]
        elif not PHONE_RE.match(phone):
            errors["guardian_phone"] = [_("手机号码格式不正确")]
        relation = RELATION_LABELS.get(relation_text)
        if relation is None and relation_text in GuardianStudent.Relation.values:
            relation = relation_text
        if not relation_text:
            errors["relation"] = [_("不能为空")]
        elif relation is None:
            errors["relation"] = [_("只能填父亲、母亲、祖父母、外祖父母或其他")]
        if len(name) > Guardian._meta.get_field("name").max_length:
            errors["guardian_name"] = [_("太长")]
        if "guardian_phone" in errors:
            return
        guardian = Guardian.objects.filter(phone=phone).first()
        if guardian is None:
            if not name:
                errors["guardian_name"] = [_("新监护人的姓名不能为空")]
            user = User.objects.filter(username=phone).first()
            if user is not None and Guardian.objects.filter(user=user).exists():
                errors["guardian_phone"] = [_("该手机号码已被其他账号使用")]
        plan["guardian"] = {"guardian": guardian, "name": name, "phone": phone,
                            "relation": relation}

    def after_init_instance(self, instance, new, row, **kwargs):
        if new:
            instance.school = self.school

    def import_instance(self, instance, row, **kwargs):
        errors = {key: list(messages) for key, messages in self._row_errors.items()}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # Grade and homeroom are set at save time (they may still have to be created).
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, "grade", "homeroom"],
                                validate_unique=validate_unique)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        plan = self._row_plan
        number = plan["grade_number"]
        grade, created = Grade.objects.get_or_create(
            school=self.school, number=number, defaults={"name": f"{number}年级"})
        self.stats["new_grades"] += created
        homeroom, created = Homeroom.objects.get_or_create(
            school=self.school, grade=grade, name=plan["homeroom_name"],
            defaults={"head_teacher": plan["head_teacher"]})
        self.stats["new_homerooms"] += created
        if not created and plan["head_teacher"] and homeroom.head_teacher != plan["head_teacher"]:
            homeroom.head_teacher = plan["head_teacher"]
            homeroom.save(update_fields=["head_teacher"])
        instance.grade = grade
        instance.homeroom = homeroom

    def after_save_instance(self, instance, row, **kwargs):
        info = self._row_plan.get("guardian")
        if not info:
            return
        guardian = info["guardian"] or Guardian.objects.filter(phone=info["phone"]).first()
        if guardian is None:
            user = User.objects.filter(username=info["phone"]).first()
            if user is None:
                user = User(username=info["phone"], display_name=info["name"])
                user.set_unusable_password()
                user.save()
            guardian = Guardian.objects.create(user=user, name=info["name"], phone=info["phone"])
            self.stats["new_guardians"] += 1
        _link, created = GuardianStudent.objects.get_or_create(
            guardian=guardian, student=instance,
            defaults={"relation": info["relation"],
                      "is_primary": not instance.guardian_links.exists()})
        self.stats["new_links"] += created

    # --- export ---

    def _primary_link(self, student):
        links = sorted(student.guardian_links.all(), key=lambda link: (not link.is_primary,
                                                                      link.pk))
        return links[0] if links else None

    def dehydrate_grade(self, student):
        return str(student.grade.number)

    def dehydrate_homeroom(self, student):
        return student.homeroom.name

    def dehydrate_head_teacher(self, student):
        teacher = student.homeroom.head_teacher
        return teacher.name if teacher else ""

    def dehydrate_guardian_name(self, student):
        link = self._primary_link(student)
        return link.guardian.name if link else ""

    def dehydrate_guardian_phone(self, student):
        link = self._primary_link(student)
        return link.guardian.phone if link else ""

    def dehydrate_relation(self, student):
        link = self._primary_link(student)
        return RELATION_EXPORT.get(link.relation, "") if link else ""


# --- Services ---------------------------------------------------------------------------------

class _Rejected(Exception):
    def __init__(self, summary):
        self.summary = summary


def _message(sheet_row: int, key: str, message: str) -> str:
    column = COLUMNS.get(key)
    if key == NON_FIELD_ERRORS or column is None:
        return _("第%(row)s行：%(message)s") % {"row": sheet_row, "message": message}
    return _("第%(row)s行 %(column)s：%(message)s") % {
        "row": sheet_row, "column": column, "message": message}


def _run_import(school: School, dataset: tablib.Dataset, sheet_rows: list[int], *,
                dry_run: bool) -> dict:
    resource = RosterResource(school=school, sheet_rows=sheet_rows)
    result = resource.import_data(dataset, dry_run=dry_run, use_transactions=True,
                                  rollback_on_validation_errors=True)
    rows, errors = [], []
    for error in result.base_errors:
        logger.warning("roster import failed: %r", error.error)
        errors.append(_("导入出错，未导入任何数据。请检查文件后重试。"))
    for row_result in result.rows:
        sheet_row = resource.sheet_row(row_result.number or 0)
        messages = []
        if row_result.validation_error is not None:
            error = row_result.validation_error
            error_dict = (error.message_dict if hasattr(error, "error_dict")
                          else {NON_FIELD_ERRORS: error.messages})
            ordered = sorted(error_dict.items(), key=lambda item: (
                list(COLUMNS).index(item[0]) if item[0] in COLUMNS else len(COLUMNS)))
            for key, key_messages in ordered:
                messages += [_message(sheet_row, key, str(m)) for m in key_messages]
        for error in row_result.errors:
            logger.warning("roster import row %s failed: %r", sheet_row, error.error)
            messages.append(_message(sheet_row, NON_FIELD_ERRORS,
                                     _("无法保存此行，请检查填写的内容")))
        if messages:
            kind = "error"
        elif row_result.import_type == RowResult.IMPORT_TYPE_NEW:
            kind = "new"
        elif row_result.import_type == RowResult.IMPORT_TYPE_UPDATE:
            kind = "update"
        else:
            kind = "skip"
        errors += messages
        rows.append({"row": sheet_row, "type": kind, "errors": messages,
                     **getattr(row_result, "summary_values", {})})
    kinds = Counter(row["type"] for row in rows)
    return {
        "total": len(rows),
        "new": kinds["new"],
        "update": kinds["update"],
        "invalid": kinds["error"],
        "new_grades": resource.stats["new_grades"],
        "new_homerooms": resource.stats["new_homerooms"],
        "new_guardians": resource.stats["new_guardians"],
        "new_links": resource.stats["new_links"],
        "rows": rows,
        "errors": errors,
    }


def roster_import_preview(*, school: School, user: User, filename: str,
                          content: bytes) -> tuple[RosterImport, dict]:
    """Dry run of an uploaded workbook. A file that cannot be read raises RosterFileError and
    nothing is kept; otherwise the file is stored, with the outcome of every row."""
    dataset, sheet_rows = read_roster_xlsx(content)
    with transaction.atomic():
        summary = _run_import(school, dataset, sheet_rows, dry_run=True)
    status = RosterImport.Status.FAILED if summary["errors"] else RosterImport.Status.PREVIEWED
    roster_import = RosterImport.objects.create(
        school=school, uploaded_by=user, filename=(filename or "roster.xlsx")[:255],
        content=content, status=status, summary=summary)
    return roster_import, summary


@transaction.atomic
def roster_import_confirm(*, roster_import: RosterImport,
                          user: User) -> tuple[RosterImport, dict]:
    """Import the previewed file for real. Any row error (the data may have changed since the
    preview) rolls everything back and marks the import failed."""
    roster_import = (RosterImport.objects.select_for_update().select_related("school")
                     .get(pk=roster_import.pk))
    if roster_import.status == RosterImport.Status.IMPORTED:
        raise Conflict(_("这个文件已经导入过了，不能重复导入。"))
    if roster_import.status != RosterImport.Status.PREVIEWED:
        raise Conflict(_("这个文件有错误，不能导入。请修改后重新上传。"))
    school = roster_import.school
    dataset, sheet_rows = read_roster_xlsx(bytes(roster_import.content))
    try:
        with transaction.atomic():
            summary = _run_import(school, dataset, sheet_rows, dry_run=False)
            if summary["errors"]:
                raise _Rejected(summary)
    except _Rejected as rejected:
        roster_import.status = RosterImport.Status.FAILED
        roster_import.summary = rejected.summary
        roster_import.save(update_fields=["status", "summary"])
        return roster_import, rejected.summary
    roster_import.status = RosterImport.Status.IMPORTED
    roster_import.summary = summary
    roster_import.save(update_fields=["status", "summary"])
    audit_record(actor=user, action="schools.roster.imported", obj=roster_import, school=school,
                 data={key: summary[key] for key in (
                     "total", "new", "update", "new_grades", "new_homerooms", "new_guardians",
                     "new_links")} | {"filename": roster_import.filename})
    return roster_import, summary


# --- Writing workbooks ------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E4E7EB")
REQUIRED_FILL = PatternFill("solid", fgColor="FFF4E5")
TEXT_COLUMNS = {"学号", "监护人手机", "班级"}


def _set_text(cell, value) -> None:
    """Write a value; text stays text even when it looks like a formula ("=1+2")."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        cell.data_type = "s"
        if value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True  # Excel keeps it as text when the cell is edited
    else:
        cell.value = value


def _write_headers(sheet, headers) -> None:
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=col, value=header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if header in REQUIRED_HEADERS else HEADER_FILL
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = 16 if header in ("优先类别", "监护人手机") else 12
        if header in TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"


def _workbook_bytes(workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def roster_export_xlsx(*, school: School) -> bytes:
    """The school's roster in the import columns (a file that can be edited and re-imported)."""
    resource = RosterResource(school=school)
    dataset = resource.export(resource.get_queryset().order_by(
        "grade__number", "homeroom__name", "student_no"))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "学生名册"
    _write_headers(sheet, dataset.headers)
    for row_index, values in enumerate(dataset, start=2):
        for col, value in enumerate(values, start=1):
            _set_text(sheet.cell(row=row_index, column=col), value)
    return _workbook_bytes(workbook)


COLUMN_HELP = [
    ("年级", "必填", "数字 1–9，如 3。没有的年级会自动新建（名称如“3年级”）。", "3"),
    ("班级", "必填", "行政班名称，如“1班”。本年级没有的班级会自动新建。", "1班"),
    ("班主任", "选填", "填本校教职工姓名；找不到同名教职工时不设置。", "王老师"),
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
    _write_headers(sheet, HEADERS)
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
    return _workbook_bytes(workbook)
