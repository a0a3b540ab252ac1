"""Decisions on applications: the homeroom teacher's class review and the principal's
approval (R3), one by one or in bulk; approval creates the enrolment."""

import datetime
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify, notify_many
from schools.audit import audit_record, audit_record_many
from schools.errors import Conflict, InvalidTransition, PolicyViolation
from schools.models import Student, User

from ..events import EnrollmentAction, enrolments_started
from ..models import Application, Enrolment
from .applications import check_start, lock_application


def _reason_required(decision: str, reason: str, student: Student) -> None:
    # R1: every "no" needs a written reason — except boarding pupils and bus riders, whom a
    # school may exclude by rule.
    if decision in ("return", "reject") and not reason.strip():
        if decision == "reject" and (student.boarding or student.bus_rider):
            return
        raise PolicyViolation(_("退回或不通过须填写理由。"), field="reason")


def _rule_reason(student: Student) -> str:
    return _("寄宿生") if student.boarding else _("乘坐校车")


def _decision_notice(application: Application, status_label: str, reason: str,
                     at: datetime.datetime) -> None:
    """One notice per decision: the decision's time is part of the key, so a returned,
    corrected and again returned application is told twice, a retried task once."""
    body = _("%(student)s 的课后服务报名：%(status)s。") % {
        "student": application.student.name, "status": status_label}
    if reason:
        body += _("理由：%(reason)s") % {"reason": reason}
    notify(recipient=application.applicant, purpose="enrollment.decision",
           school=application.term.school_id,
            dedupe_key=f"enrollment.decision:{application.pk}:{application.status}:"
                       f"{at:%Y%m%d%H%M%S%f}",
            subject=_("报名审核结果"), body=body, url=application.get_absolute_url(),
            payload={"application": application.pk, "status": application.status})


REVIEW_DECISIONS = {"approve": Application.Status.CLASS_APPROVED,
                    "return": Application.Status.RETURNED,
                    "reject": Application.Status.REJECTED}


@transaction.atomic
def application_review(*, application: Application, reviewer: User, decision: str,
                       reason: str = "", verified_claims: Iterable[str] = ()) -> Application:
    """班级审核 by the homeroom teacher (R3). Scope is checked by the caller's selector."""
    if decision not in REVIEW_DECISIONS:
        raise PolicyViolation(_("审核结论须为通过、退回或不通过。"), field="decision")
    application = lock_application(application)
    if application.status != Application.Status.SUBMITTED:
        raise InvalidTransition(application.get_status_display(), _("班级审核"))
    _reason_required(decision, reason, application.student)
    reason = reason.strip() or (_rule_reason(application.student) if decision == "reject" else "")
    application.status = REVIEW_DECISIONS[decision]
    application.reviewed_by = reviewer
    application.reviewed_at = timezone.now()
    application.reason = reason if decision != "approve" else ""
    application.save(update_fields=["status", "reviewed_by", "reviewed_at", "reason"])
    verified = set(verified_claims) & set(application.priority_claims)
    if verified:
        application.evidence.filter(code__in=verified).update(
            verified_at=application.reviewed_at, verified_by=reviewer)
    audit_record(actor=reviewer, action=EnrollmentAction.APPLICATION_REVIEWED, obj=application,
                 school=application.term.school,
                 data={"decision": decision, "reason": reason, "verified": sorted(verified)})
    if decision != "approve":
        _decision_notice(application, application.get_status_display(), reason,
                         application.reviewed_at)
    return application


@transaction.atomic
def application_review_bulk(*, applications: Sequence[Application], reviewer: User) -> int:
    """Approve many at once (a whole class in one request)."""
    ids = [a.pk for a in applications]
    locked = list(Application.objects.select_for_update(of=("self",)).select_related("term")
                  .filter(pk__in=ids, status=Application.Status.SUBMITTED))
    if len(locked) != len(set(ids)):
        raise Conflict(_("部分申请已被处理，请刷新后重试。"), code="stale")
    now = timezone.now()
    Application.objects.filter(pk__in=ids).update(
        status=Application.Status.CLASS_APPROVED, reviewed_by=reviewer, reviewed_at=now,
        reason="")
    _audit_bulk(reviewer, EnrollmentAction.APPLICATION_REVIEWED, locked, {"decision": "approve",
                                                                      "bulk": True})
    return len(locked)


def _audit_bulk(actor: User, action: str, applications: Sequence[Application],
                data: dict) -> None:
    """One audit row per application in one INSERT (their terms are loaded: no query)."""
    audit_record_many(actor=actor, action=action, objects=applications, data=data,
                      school=lambda a: a.term.school_id, label=lambda a: _("申请 #%s") % a.pk)


@transaction.atomic
def application_decide(*, application: Application, principal: User, decision: str,
                       reason: str = "", start_date: datetime.date | None = None
                       ) -> Application:
    """校长审定 (R3): approval creates the enrolment from its start date."""
    if decision not in ("approve", "reject"):
        raise PolicyViolation(_("审定结论须为批准或不批准。"), field="decision")
    application = lock_application(application)
    if application.status != Application.Status.CLASS_APPROVED:
        raise Conflict(_("须先经班级审核通过，才能审定。"), code="not_class_approved")
    _reason_required(decision, reason, application.student)
    now = timezone.now()
    application.decided_by = principal
    application.decided_at = now
    if decision == "reject":
        application.status = Application.Status.REJECTED
        application.reason = reason.strip() or _rule_reason(application.student)
        application.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        audit_record(actor=principal, action=EnrollmentAction.APPLICATION_DECIDED, obj=application,
                     school=application.term.school,
                     data={"decision": decision, "reason": application.reason})
        _decision_notice(application, application.get_status_display(), application.reason,
                         now)
        return application
    check_start(application.term, start_date)
    application.status = Application.Status.APPROVED
    application.save(update_fields=["status", "decided_by", "decided_at"])
    enrolments = _enrol([application], start_date)
    enrolments_started.send(sender=Enrolment, enrolments=enrolments, user=principal)
    audit_record(actor=principal, action=EnrollmentAction.APPLICATION_DECIDED, obj=application,
                 school=application.term.school,
                 data={"decision": decision, "enrolment": enrolments[0].pk})
    _decision_notice(application, application.get_status_display(), "", now)
    return application


def _start_for(application: Application, start_date: datetime.date | None) -> datetime.date:
    """Mid-term joining: from the chosen date, else today, never before the term starts."""
    term = application.term
    start = start_date or application.start_date or timezone.localdate()
    return min(max(start, term.start), term.end)


def _enrol(applications: Sequence[Application],
           start_date: datetime.date | None) -> list[Enrolment]:
    enrolments = Enrolment.objects.bulk_create([
        Enrolment(term_id=a.term_id, student_id=a.student_id, application=a,
                  start_date=_start_for(a, start_date))
        for a in applications
    ])
    app_slots = Application.slots.through.objects.filter(
        application_id__in=[a.pk for a in applications]).values_list("application_id",
                                                                      "serviceslot_id")
    by_app = {e.application_id: e.pk for e in enrolments}
    Enrolment.slots.through.objects.bulk_create([
        Enrolment.slots.through(enrolment_id=by_app[app_id], serviceslot_id=slot_id)
        for app_id, slot_id in app_slots
    ])
    return enrolments


@transaction.atomic
def application_decide_bulk(*, applications: Sequence[Application], principal: User,
                            start_date: datetime.date | None = None) -> list[Enrolment]:
    """Approve many class-approved applications in one request, in a bounded number of
    queries whatever their count (bulk updates and inserts, no query per application)."""
    ids = {a.pk for a in applications}
    locked = list(Application.objects.select_for_update(of=("self",))
                  .select_related("term", "student", "applicant")
                  .filter(pk__in=ids, status=Application.Status.CLASS_APPROVED))
    if len(locked) != len(ids):
        raise Conflict(_("部分申请尚未通过班级审核或已被处理，请刷新后重试。"),
                       code="not_class_approved")
    for a in locked:
        check_start(a.term, start_date)
    now = timezone.now()
    Application.objects.filter(pk__in=ids).update(
        status=Application.Status.APPROVED, decided_by=principal, decided_at=now)
    for a in locked:
        a.status = Application.Status.APPROVED
    enrolments = _enrol(locked, start_date)
    enrolments_started.send(sender=Enrolment, enrolments=enrolments, user=principal)
    _audit_bulk(principal, EnrollmentAction.APPLICATION_DECIDED, locked,
                {"decision": "approve", "bulk": True})
    notify_many([
        dict(recipient=a.applicant, purpose="enrollment.decision", school=a.term.school_id,
             dedupe_key=f"enrollment.decision:{a.pk}:approved",
             subject=_("报名审核结果"),
             body=_("%(student)s 的课后服务报名：已批准。") % {"student": a.student.name},
             url=a.get_absolute_url(),
             payload={"application": a.pk, "status": a.status})
        for a in locked
    ])
    return enrolments
