"""The roster file format: its columns, the values a cell may hold, and its limits.

Column headers and cell values (男/女, 是/否, 父亲…) are the file format, not interface text:
they stay Chinese whatever the interface language.
"""

import re

from django.utils import translation

from ..models import GuardianStudent, PriorityCategory, Student
from ..tables import XLSX_CONTENT_TYPE  # noqa: F401  (the upload's accepted type)

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
PHONE_SEPARATORS_RE = re.compile(r"[\s-]")
GRADE_RE = re.compile(r"^(\d{1,2})(?:年级)?$")
LIST_SPLIT_RE = re.compile(r"[,，、;；\s]+")

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


def plain_phone(text: str) -> str:
    """A phone number as written in a cell, without spaces and dashes."""
    return PHONE_SEPARATORS_RE.sub("", text)


def priority_labels() -> dict[str, str]:
    """Chinese label → code, whatever the active language (the labels are the msgids)."""
    with translation.override("zh-hans"):
        return {str(label): value for value, label in PriorityCategory.choices}


def priority_label(code: str) -> str:
    with translation.override("zh-hans"):
        try:
            return str(PriorityCategory(code).label)
        except ValueError:
            return code
