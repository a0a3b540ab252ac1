"""The attendance stage's audit action names, defined once; labels are what a history shows."""

from django.utils.translation import gettext_lazy as _

from schools.audit import AuditAction


class AttendanceAction(AuditAction):
    SESSION_TEACHER_SET = "attendance.session.teacher_set", _("安排代课教师")
    ROLL_CALLED = "attendance.roll.called", _("点名")
    MARK_CORRECTED = "attendance.mark.corrected", _("更正点名")
    INCIDENT_REPORTED = "attendance.incident.reported", _("记录事件")
    INCIDENT_ACKNOWLEDGED = "attendance.incident.acknowledged", _("家长确认事件")
    INCIDENT_RESOLVED = "attendance.incident.resolved", _("事件处理完毕")
    ADULT_ADDED = "attendance.adult.added", _("添加授权接送人")
    ADULT_REVOKED = "attendance.adult.revoked", _("撤销授权接送人")
    DELEGATION_GIVEN = "attendance.delegation.given", _("当日委托接送")
    WALK_HOME_SIGNED = "attendance.walk_home.signed", _("签署自行离校许可")
    RESTRICTED_RECORDED = "attendance.restricted.recorded", _("登记禁止接送人")
    HANDED_OFF = "attendance.handoff.released", _("放学交接")
    HANDOFF_REFUSED = "attendance.handoff.refused", _("拒绝交接")
    HANDOFF_CONFLICT = "attendance.handoff.conflict", _("交接冲突")
    HANDOFF_DISPUTED = "attendance.handoff.disputed", _("家长对交接提出异议")
    DAY_CLOSED = "attendance.day.closed", _("日终确认")
    RECORD_WRITTEN = "attendance.record.written", _("填写服务记录")
    WEEKS_ARCHIVED = "attendance.weeks.archived", _("班级每周活动记录存档")
    MONTH_PUBLISHED = "attendance.month.published", _("公布教师课后服务考勤")
