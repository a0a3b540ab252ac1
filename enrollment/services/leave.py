"""Leave for a day and slot, and withdrawal from the service with its notice period (R10)."""

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify
from schools.audit import audit_record, audit_record_many
from schools.errors import Conflict, InvalidTransition, PolicyViolation
from schools.models import ServiceSlot, Student, User
from schools.selectors import service_days

from ..events import EnrollmentAction, leave_reported
from ..models import Enrolment, Leave, Withdrawal
from ..selectors import enrolments_in_force


@transaction.atomic
def leave_report(*, enrolment: Enrolment, user: User, date: datetime.date, slot: ServiceSlot,
                 reason: str) -> Leave:
    term = enrolment.term
    if not reason.strip():
        raise PolicyViolation(_("请填写请假事由。"), field="reason")
    if slot.term_id != term.pk or not enrolment.slots.filter(pk=slot.pk).exists():
        raise PolicyViolation(_("孩子未报名该时段。"), field="slot")
    if not (term.start <= date <= term.end):
        raise PolicyViolation(_("日期须在学期内。"), field="date")
    if not any(day.weekday == slot.weekday for day in service_days(term, date, date)):
        raise PolicyViolation(_("该日期不是所选时段的服务日。"), field="date")
    if not enrolment.covers(date):  # the slot is the enrolment's: checked above
        raise PolicyViolation(_("孩子当天不在读。"), field="date")
    if date < timezone.localdate():
        raise PolicyViolation(_("不能为过去的日期请假。"), field="date")
    now = timezone.localtime()
    late = date == now.date() and now.time() >= term.school.leave_cutoff
    leave, created = Leave.objects.get_or_create(
        student=enrolment.student, date=date, slot=slot,
        defaults={"enrolment": enrolment, "reason": reason.strip(), "reported_by": user,
                  "late": late})
    if not created:
        raise Conflict(_("该日该时段已请假。"), code="already_reported")
    audit_record(actor=user, action=EnrollmentAction.LEAVE_REPORTED, obj=leave, school=term.school,
                 data={"date": date.isoformat(), "slot": slot.pk, "reason": leave.reason,
                       "late": late})
    leave_reported.send(sender=Leave, leave=leave, user=user)
    return leave


@transaction.atomic
def leave_cancel(*, leave: Leave, user: User) -> None:
    """A guardian takes back a leave before its day (on the day the roll-taker counts on it)."""
    leave = (Leave.objects.select_for_update(of=("self",))
             .select_related("enrolment__term__school").get(pk=leave.pk))
    if leave.date <= timezone.localdate():
        raise Conflict(_("当天及以前的请假不能撤销，请联系老师。"), code="too_late")
    school = leave.enrolment.term.school
    audit_record(actor=user, action=EnrollmentAction.LEAVE_CANCELLED, obj=leave, school=school,
                 data={"date": leave.date.isoformat(), "slot": leave.slot_id})
    leave.delete()


@transaction.atomic
def leave_report_for_child(*, student: Student, slot_id: int, date: datetime.date, reason: str,
                           user: User) -> Leave:
    """Leave reported by naming the child and the slot (the API): the slot must be one of the
    child's school's, and the child in force in its term on that date."""
    slot = ServiceSlot.objects.filter(pk=slot_id, term__school_id=student.school_id).first()
    if slot is None:
        raise PolicyViolation(_("所选时段不存在或不属于该学期。"), field="slot")
    enrolment = (enrolments_in_force(slot.term, date).filter(student=student)
                 .select_related("term__school").first())
    if enrolment is None:
        raise PolicyViolation(_("孩子未参加该学期的课后服务。"), field="student")
    return leave_report(enrolment=enrolment, user=user, date=date, slot=slot, reason=reason)


def withdrawal_earliest(enrolment: Enrolment, today: datetime.date | None = None
                        ) -> datetime.date:
    today = today or timezone.localdate()
    return today + datetime.timedelta(days=enrolment.term.school.withdrawal_notice_days)


@transaction.atomic
def withdrawal_request(*, enrolment: Enrolment, user: User, effective_date: datetime.date,
                       reason: str) -> Withdrawal:
    """R10: a written request at least the school's notice days ahead (default one week)."""
    enrolment = (Enrolment.objects.select_for_update(of=("self",))
                 .select_related("term__school", "student").get(pk=enrolment.pk))
    if enrolment.status != Enrolment.Status.ACTIVE:
        raise Conflict(_("孩子已退出课后服务。"), code="not_active")
    earliest = withdrawal_earliest(enrolment)
    if effective_date < earliest:
        raise PolicyViolation(
            _("退出须至少提前%(days)s天申请，最早可选 %(date)s。")
            % {"days": enrolment.term.school.withdrawal_notice_days, "date": earliest},
            field="effective_date")
    if effective_date > enrolment.term.end:
        raise PolicyViolation(_("生效日期须在学期内。"), field="effective_date")
    if not reason.strip():
        raise PolicyViolation(_("请填写退出原因。"), field="reason")
    if enrolment.withdrawals.filter(status=Withdrawal.Status.REQUESTED).exists():
        raise Conflict(_("已有一份待审批的退出申请。"), code="already_open")
    withdrawal = Withdrawal.objects.create(enrolment=enrolment, requested_by=user,
                                           effective_date=effective_date, reason=reason.strip())
    audit_record(actor=user, action=EnrollmentAction.WITHDRAWAL_REQUESTED, obj=withdrawal,
                 school=enrolment.term.school,
                 data={"effective_date": effective_date.isoformat(), "reason": reason})
    return withdrawal


@transaction.atomic
def withdrawal_decide(*, withdrawal: Withdrawal, principal: User, approve: bool,
                      reason: str = "") -> Withdrawal:
    withdrawal = (Withdrawal.objects.select_for_update(of=("self",))
                  .select_related("enrolment__term__school", "enrolment__student")
                  .get(pk=withdrawal.pk))
    if withdrawal.status != Withdrawal.Status.REQUESTED:
        raise InvalidTransition(withdrawal.get_status_display(), _("审批"))
    if not approve and not reason.strip():
        raise PolicyViolation(_("不批准须填写理由。"), field="reason")
    withdrawal.status = Withdrawal.Status.APPROVED if approve else Withdrawal.Status.REJECTED
    withdrawal.decided_by = principal
    withdrawal.decided_at = timezone.now()
    withdrawal.decision_reason = reason.strip()
    withdrawal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    enrolment = withdrawal.enrolment
    if approve:
        # The enrolment ends on the effective date: service runs until then, and the status
        # turns to ended once the date has passed (enrolments_end_due).
        enrolment.end_date = max(withdrawal.effective_date, enrolment.start_date)
        fields = ["end_date"]
        if enrolment.end_date < timezone.localdate():
            enrolment.status = Enrolment.Status.ENDED
            fields.append("status")
        enrolment.save(update_fields=fields)
    audit_record(actor=principal, action=EnrollmentAction.WITHDRAWAL_DECIDED, obj=withdrawal,
                 school=enrolment.term.school,
                 data={"approve": approve, "reason": reason,
                       "effective_date": withdrawal.effective_date.isoformat()})
    notify(recipient=withdrawal.requested_by, purpose="enrollment.withdrawal",
           school=enrolment.term.school_id,
            dedupe_key=f"enrollment.withdrawal:{withdrawal.pk}:{withdrawal.status}",
            subject=_("退出申请结果"),
            body=(_("%(student)s 的退出申请已批准，课后服务至 %(date)s（含当天）结束。")
                  if approve else _("%(student)s 的退出申请未获批准。理由：%(reason)s"))
            % {"student": enrolment.student.name, "date": withdrawal.effective_date,
               "reason": reason},
            url=f"{reverse('enrollment:overview')}#student-{enrolment.student_id}",
            payload={"withdrawal": withdrawal.pk, "status": withdrawal.status})
    return withdrawal


@transaction.atomic
def enrolments_end_due(*, today: datetime.date | None = None) -> int:
    """Mark enrolments whose end date has passed as ended (run daily by beat)."""
    today = today or timezone.localdate()
    due = list(Enrolment.objects.select_for_update(of=("self",)).select_related("term")
               .filter(status=Enrolment.Status.ACTIVE, end_date__lt=today))
    Enrolment.objects.filter(pk__in=[e.pk for e in due]).update(status=Enrolment.Status.ENDED)
    audit_record_many(actor=None, action=EnrollmentAction.ENROLMENT_ENDED, objects=due,
                      school=lambda e: e.term.school_id, data={"on": today.isoformat()},
                      label=lambda e: _("在读登记 #%s") % e.pk)
    return len(due)
