"""Roster import and export as XLSX (one sheet, one row per student, Chinese headers).

The flow: a principal or the after-school office uploads a workbook →
`roster_import_preview` reads it, runs the import as a dry run and keeps the file
(RosterImport) → the page shows every row as new / update / error → `roster_import_confirm`
imports the very same file. All or nothing: one bad row and nothing is written.

By topic:
  columns    the file format: columns, accepted cell values, limits
  reading    an uploaded workbook → a Dataset of strings
  widgets    one import-export widget per column that is not plain text
  resource   the import-export resource: row checks, and the export columns
  plan       what the rows will write, worked out in memory and written in bulk
  services   preview and confirm
  workbook   writing workbooks: the template and the shared cell and header helpers
  export     the school's roster as a workbook that can be re-imported
"""

from .columns import HEADERS, MAX_FILE_BYTES, XLSX_CONTENT_TYPE
from .export import roster_export_xlsx
from .services import roster_import_confirm, roster_import_preview
from .workbook import roster_template_xlsx

__all__ = [
    "HEADERS",
    "MAX_FILE_BYTES",
    "XLSX_CONTENT_TYPE",
    "roster_export_xlsx",
    "roster_import_confirm",
    "roster_import_preview",
    "roster_template_xlsx",
]
