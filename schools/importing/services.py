"""Preview and confirm: the run of an import, and the outcome of every row."""

import logging
from collections import Counter

import tablib
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils.translation import gettext as _
from import_export.results import RowResult

from ..audit import RosterAction, audit_record
from ..errors import Conflict
from ..models import RosterImport, School, User
from .columns import COLUMNS
from .reading import read_roster_xlsx
from .resource import RosterResource

logger = logging.getLogger(__name__)


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
    stats = resource.plan.stats
    return {
        "total": len(rows),
        "new": kinds["new"],
        "update": kinds["update"],
        "invalid": kinds["error"],
        "new_grades": stats["new_grades"],
        "new_homerooms": stats["new_homerooms"],
        "new_guardians": stats["new_guardians"],
        "new_links": stats["new_links"],
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
    audit_record(actor=user, action=RosterAction.ROSTER_IMPORTED, obj=roster_import, school=school,
                 data={key: summary[key] for key in (
                     "total", "new", "update", "new_grades", "new_homerooms", "new_guardians",
                     "new_links")} | {"filename": roster_import.filename})
    return roster_import, summary
