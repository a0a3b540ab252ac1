"""Every write of the enrollment stage: one function per action, one transaction, audited.
By topic: the term plan and survey, applications, decisions on them, leave and withdrawal."""

from .applications import (
    LOWER_GRADES,
    EvidenceInput,
    SignatureInput,
    application_cancel,
    application_resubmit,
    application_submit,
)
from .decisions import (
    REVIEW_DECISIONS,
    application_decide,
    application_decide_bulk,
    application_review,
    application_review_bulk,
)
from .fees import fee_paragraph, fee_standard_publish
from .leave import (
    enrolments_end_due,
    leave_cancel,
    leave_report,
    leave_report_for_child,
    withdrawal_decide,
    withdrawal_earliest,
    withdrawal_request,
)
from .plans import (
    PLAN_FIELDS,
    plan_publish,
    plan_save_and_publish,
    plan_save_draft,
    survey_submit,
)

__all__ = [
    "fee_paragraph",
    "fee_standard_publish",
    "EvidenceInput",
    "LOWER_GRADES",
    "PLAN_FIELDS",
    "REVIEW_DECISIONS",
    "SignatureInput",
    "application_cancel",
    "application_decide",
    "application_decide_bulk",
    "application_resubmit",
    "application_review",
    "application_review_bulk",
    "application_submit",
    "enrolments_end_due",
    "leave_cancel",
    "leave_report",
    "leave_report_for_child",
    "plan_publish",
    "plan_save_and_publish",
    "plan_save_draft",
    "survey_submit",
    "withdrawal_decide",
    "withdrawal_earliest",
    "withdrawal_request",
]
