"""The enrollment stage's audit action names, defined once; labels are what a history shows."""

from django.dispatch import Signal
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
    LEAVE_CANCELLED = "enrollment.leave.cancelled", _("家长撤销请假")
    WITHDRAWAL_REQUESTED = "enrollment.withdrawal.requested", _("申请退出")
    WITHDRAWAL_DECIDED = "enrollment.withdrawal.decided", _("审批退出申请")
    ENROLMENT_ENDED = "enrollment.enrolment.ended", _("在读结束")
    FEE_STANDARD_PUBLISHED = "enrollment.fee_standard.published", _("发布收费标准")


# Sent inside the transaction that creates enrolments (an approval, one or many), so a later
# stage's reaction commits or rolls back with it: scheduling seats a child who joins a week
# that is already allocated. Arguments: `enrolments` (a list), `user` (who approved).
enrolments_started = Signal()

# Sent inside the transaction that records a leave. Arguments: `leave` (its `late` says it came
# after the school's cut-off on the day itself), `user`. Scheduling tells the teacher who
# takes that class's roll of a late one.
leave_reported = Signal()

# Sent inside the transaction that publishes a version of a term's fee standard (R11).
# Arguments: `standard`, `user`. Billing charges the term's enrolments that had no charge yet
# and posts the difference a new rate makes to those that had.
fee_standard_published = Signal()
