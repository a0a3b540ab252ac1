"""The enrollment stage's audit action names, defined once; labels are what a history shows."""

from django.utils.translation import gettext_lazy as _

from schools.audit import AuditAction


class EnrollmentAction(AuditAction):
    PLAN_DRAFT_SAVED = "enrollment.plan.draft_saved", _("保存服务方案草稿")
    PLAN_PUBLISHED = "enrollment.plan.published", _("公示服务方案")
    SURVEY_ANSWERED = "enrollment.survey.answered", _("家长填写需求调查")
    APPLICATION_SUBMITTED = "enrollment.application.submitted", _("家长提交申请")
    APPLICATION_RESUBMITTED = "enrollment.application.resubmitted", _("家长重新提交申请")
    APPLICATION_CANCELLED = "enrollment.application.cancelled", _("家长撤回申请")
    APPLICATION_REVIEWED = "enrollment.application.reviewed", _("班主任审核")
    APPLICATION_DECIDED = "enrollment.application.decided", _("学校审定")
    LEAVE_REPORTED = "enrollment.leave.reported", _("家长请假")
    WITHDRAWAL_REQUESTED = "enrollment.withdrawal.requested", _("申请退出")
    WITHDRAWAL_DECIDED = "enrollment.withdrawal.decided", _("审批退出申请")
    ENROLMENT_ENDED = "enrollment.enrolment.ended", _("在读结束")
