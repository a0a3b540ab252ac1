"""The oversight stage's audit action names, defined once; labels are what a history shows."""

from django.utils.translation import gettext_lazy as _

from schools.audit import AuditAction


class OversightAction(AuditAction):
    WORKBOOK_REQUESTED = "oversight.workbook.requested", _("生成合规工作簿")
