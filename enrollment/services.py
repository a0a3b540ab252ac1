"""Every write of the enrollment stage: one function per action, one transaction, audited."""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import Conflict, InvalidTransition, PolicyViolation
from schools.models import AuditEntry, PriorityCategory, ServiceSlot, Student, Term, User

from .models import (
    Application,
    ClaimEvidence,
    Enrolment,
    Leave,
    Signature,
    SurveyResponse,
    TermPlan,
    Withdrawal,
)

PLAN_FIELDS = (
    "service_days", "menu_outline", "staffing", "fee_standard", "fee_settlement",
    "withdrawal_rule", "safety_measures", "agreement_text", "complaint_phone",
    "complaint_email", "applications_open", "applications_close",
)
# R4: pupils of grades 1–2 are a priority group without any claim.
LOWER_GRADES = (1, 2)


def _notify(**kwargs) -> None:
    from notifications.services import notify

    notify(**kwargs)


# --- Term plan (R2) -------------------------------------------------------------------------

def plan_current(term: Term) -> TermPlan | None:
    return term.plans.filter(status=TermPlan.Status.PUBLISHED).order_by("-version").first()


@transaction.atomic
def plan_save_draft(*, term: Term, user: User, **fields) -> TermPlan:
    """Edit the term's draft; the first edit after a publication starts from the published
    text, so a later change becomes the next version."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise PolicyViolation(_("未知字段：%s") % ", ".join(sorted(unknown)))
    draft = term.plans.select_for_update().filter(status=TermPlan.Status.DRAFT).first()
    if draft is None:
        base = plan_current(term)
        initial = {f: getattr(base, f) for f in PLAN_FIELDS} if base else {
            "complaint_phone": term.school.complaint_phone,
            "complaint_email": term.school.complaint_email,
        }
        draft = TermPlan(term=term, **initial)
    for name, value in fields.items():
        setattr(draft, name, value)
    if (draft.applications_open and draft.applications_close
            and draft.applications_close < draft.applications_open):
        raise PolicyViolation(_("报名截止日期不能早于开始日期。"), field="applications_close")
    draft.save()
    audit_record(actor=user, action="enrollment.plan.draft_saved", obj=draft,
                 data={"fields": sorted(fields)})
    return draft


@transaction.atomic
def plan_publish(*, plan: TermPlan, user: User) -> TermPlan:
    plan = TermPlan.objects.select_for_update().select_related("term__school").get(pk=plan.pk)
    if plan.status != TermPlan.Status.DRAFT:
        raise InvalidTransition(plan.get_status_display(), _("公示"))
    missing = [str(TermPlan._meta.get_field(f).verbose_name)
               for f in ("agreement_text", "complaint_phone", "fee_standard", "withdrawal_rule",
                         "safety_measures")
               if not getattr(plan, f)]
    if missing:
        raise PolicyViolation(_("公示前须填写：%s") % "、".join(missing))
    term = plan.term
    # Versions are numbered per term; the term row serialises two principals publishing at once.
    Term.objects.select_for_update().get(pk=term.pk)
    last = term.plans.aggregate(v=Max("version"))["v"] or 0
    plan.version = last + 1
    plan.status = TermPlan.Status.PUBLISHED
    plan.published_at = timezone.now()
    plan.published_by = user
    plan.slots_snapshot = [
        {"id": s.pk, "kind": s.kind, "weekday": s.weekday, "start": s.start.strftime("%H:%M"),
         "end": s.end.strftime("%H:%M"), "class_hours": str(s.class_hours)}
        for s in term.slots.order_by("weekday", "start")
    ]
    plan.save(update_fields=["version", "status", "published_at", "published_by",
                             "slots_snapshot"])
    audit_record(actor=user, action="enrollment.plan.published", obj=plan,
                 data={"version": plan.version})
    return plan


# --- Needs survey -----------------------------------------------------------------------------

@transaction.atomic
def survey_submit(*, term: Term, student: Student, guardian: User,
                  slots: Sequence[ServiceSlot]) -> SurveyResponse:
    _check_slots(term, slots, allow_empty=True)
    response, _created = SurveyResponse.objects.update_or_create(
        term=term, student=student, defaults={"guardian": guardian})
    response.slots.set(slots)
    audit_record(actor=guardian, action="enrollment.survey.answered", obj=response,
                 school=term.school, data={"slots": [s.pk for s in slots]})
    return response


# --- Applications (R1, R3, R4) ----------------------------------------------------------------

@dataclass(frozen=True)
class SignatureInput:
    agreement_version: int
    signed_name: str
    ip_address: str | None = None
    user_agent: str = ""


@dataclass(frozen=True)
class EvidenceInput:
    code: str
    file: object  # an UploadedFile already checked by enrollment.evidence.check_evidence


def _check_slots(term: Term, slots: Sequence[ServiceSlot], *, allow_empty: bool = False):
    if not slots and not allow_empty:
        raise PolicyViolation(_("请至少选择一个服务时段。"), field="slots")
    if any(s.term_id != term.pk for s in slots):
        raise PolicyViolation(_("所选时段不属于该学期。"), field="slots")


def _check_claims(claims: Iterable[str]) -> list[str]:
    claims = list(dict.fromkeys(claims))
    unknown = [c for c in claims if c not in PriorityCategory.values]
    if unknown:
        raise PolicyViolation(_("未知的优先保障类别：%s") % ", ".join(unknown),
                              field="priority_claims")
    return claims


def _check_signature(plan: TermPlan | None, signature: SignatureInput, guardian_name: str):
    if plan is None:
        raise Conflict(_("学校尚未公示本学期课后服务方案，暂不能报名。"), code="plan_not_published")
    if signature.agreement_version != plan.version:
        raise PolicyViolation(
            _("安全责任书已更新为第%(v)s版，请阅读最新版本后重新签署。") % {"v": plan.version},
            field="agreement_version")
    if signature.signed_name.strip() != guardian_name.strip():
        raise PolicyViolation(
            _("签名须与监护人登记姓名（%(name)s）一致。") % {"name": guardian_name},
            field="signed_name")


def _check_window(plan: TermPlan, today: datetime.date) -> None:
    if plan.applications_open and today < plan.applications_open:
        raise Conflict(_("报名将于 %(d)s 开始。") % {"d": plan.applications_open},
                       code="applications_not_open")
    if plan.applications_close and today > plan.applications_close:
        raise Conflict(_("报名已于 %(d)s 截止。") % {"d": plan.applications_close},
                       code="applications_closed")


def _check_start(term: Term, start_date: datetime.date | None) -> None:
    if start_date and not (term.start <= start_date <= term.end):
        raise PolicyViolation(_("开始日期须在学期内（%(start)s 至 %(end)s）。")
                              % {"start": term.start, "end": term.end}, field="start_date")


def _sign(*, application: Application, plan: TermPlan, signer: User,
          signature: SignatureInput) -> Signature:
    return Signature.objects.create(
        application=application, signer=signer, plan=plan,
        signed_name=signature.signed_name.strip(), signed_at=timezone.now(),
        ip_address=signature.ip_address or None, user_agent=signature.user_agent[:300],
        agreement_digest=plan.agreement_digest)


def _save_evidence(application: Application, evidence: Sequence[EvidenceInput]) -> None:
    for item in evidence:
        if item.code not in application.priority_claims:
            raise PolicyViolation(_("证明材料须对应所申报的优先类别。"), field="evidence")
        ClaimEvidence.objects.create(application=application, code=item.code, file=item.file,
                                     content_type=getattr(item.file, "content_type", ""),
                                     size=item.file.size)


def _is_priority(student: Student, claims: Sequence[str]) -> bool:
    return bool(claims) or student.grade.number in LOWER_GRADES


@transaction.atomic
def application_submit(*, applicant: User, guardian_name: str, student: Student, term: Term,
                       slots: Sequence[ServiceSlot], priority_claims: Iterable[str],
                       signature: SignatureInput, note: str = "",
                       start_date: datetime.date | None = None,
                       evidence: Sequence[EvidenceInput] = ()) -> Application:
    """The guardian's written application (R1), signed on the current agreement version."""
    if student.school_id != term.school_id:
        raise PolicyViolation(_("该学期不属于孩子所在学校。"), field="term")
    plan = plan_current(term)
    _check_signature(plan, signature, guardian_name)
    _check_window(plan, timezone.localdate())
    _check_slots(term, slots)
    claims = _check_claims(priority_claims)
    _check_start(term, start_date)
    if Enrolment.objects.filter(student=student, term=term,
                                status=Enrolment.Status.ACTIVE).exists():
        raise Conflict(_("孩子本学期已在读，无需重复报名。"), code="already_enrolled")
    application = Application(
        term=term, student=student, applicant=applicant, priority_claims=claims, note=note,
        plan=plan, start_date=start_date, submitted_at=timezone.now(),
        is_priority=_is_priority(student, claims))
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:
        # The partial unique index (one open application per child and term) decides races.
        raise Conflict(_("孩子本学期已有一份处理中的申请。"), code="already_open") from exc
    application.slots.set(slots)
    _sign(application=application, plan=plan, signer=applicant, signature=signature)
    _save_evidence(application, evidence)
    audit_record(actor=applicant, action="enrollment.application.submitted", obj=application,
                 data={"slots": [s.pk for s in slots], "priority_claims": claims,
                       "agreement_version": plan.version})
    return application


@transaction.atomic
def application_resubmit(*, application: Application, applicant: User, guardian_name: str,
                         slots: Sequence[ServiceSlot], priority_claims: Iterable[str],
                         signature: SignatureInput, note: str = "",
                         start_date: datetime.date | None = None,
                         evidence: Sequence[EvidenceInput] = ()) -> Application:
    """A returned application, corrected and signed again."""
    application = _lock(application)
    if application.status != Application.Status.RETURNED:
        raise InvalidTransition(application.get_status_display(), _("重新提交"))
    plan = plan_current(application.term)
    _check_signature(plan, signature, guardian_name)
    _check_slots(application.term, slots)
    claims = _check_claims(priority_claims)
    _check_start(application.term, start_date)
    application.priority_claims = claims
    application.note = note
    application.start_date = start_date
    application.plan = plan
    application.status = Application.Status.SUBMITTED
    application.submitted_at = timezone.now()
    application.is_priority = _is_priority(application.student, claims)
    application.save(update_fields=["priority_claims", "note", "start_date", "plan", "status",
                                    "submitted_at", "is_priority"])
    application.slots.set(slots)
    _sign(application=application, plan=plan, signer=applicant, signature=signature)
    _save_evidence(application, evidence)
    audit_record(actor=applicant, action="enrollment.application.resubmitted", obj=application,
                 data={"slots": [s.pk for s in slots], "priority_claims": claims})
    return application


def _lock(application: Application) -> Application:
    return (Application.objects.select_for_update(of=("self",))
            .select_related("student__grade", "term__school").get(pk=application.pk))


@transaction.atomic
def application_cancel(*, application: Application, user: User) -> Application:
    application = _lock(application)
    if application.status not in Application.OPEN_STATUSES:
        raise InvalidTransition(application.get_status_display(), _("撤回"))
    application.status = Application.Status.CANCELLED
    application.save(update_fields=["status"])
    audit_record(actor=user, action="enrollment.application.cancelled", obj=application)
    return application


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
    _notify(recipient=application.applicant, purpose="enrollment.decision",
            dedupe_key=f"enrollment.decision:{application.pk}:{application.status}:"
                       f"{at:%Y%m%d%H%M%S%f}",
            subject=_("报名审核结果"), body=body,
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
    application = _lock(application)
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
    audit_record(actor=reviewer, action="enrollment.application.reviewed", obj=application,
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
    _audit_bulk(reviewer, "enrollment.application.reviewed", locked, {"decision": "approve",
                                                                      "bulk": True})
    return len(locked)


def _audit_bulk(actor: User, action: str, applications: Sequence[Application],
                data: dict) -> None:
    content_type = ContentType.objects.get_for_model(Application)
    AuditEntry.objects.bulk_create([
        AuditEntry(actor=actor, action=action, content_type=content_type,
                   object_id=str(a.pk), object_repr=f"application {a.pk}",
                   school_id=a.term.school_id if "term" in a._state.fields_cache else None,
                   data=data)
        for a in applications
    ])


@transaction.atomic
def application_decide(*, application: Application, principal: User, decision: str,
                       reason: str = "", start_date: datetime.date | None = None
                       ) -> Application:
    """校长审定 (R3): approval creates the enrolment from its start date."""
    if decision not in ("approve", "reject"):
        raise PolicyViolation(_("审定结论须为批准或不批准。"), field="decision")
    application = _lock(application)
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
        audit_record(actor=principal, action="enrollment.application.decided", obj=application,
                     data={"decision": decision, "reason": application.reason})
        _decision_notice(application, application.get_status_display(), application.reason,
                         now)
        return application
    _check_start(application.term, start_date)
    application.status = Application.Status.APPROVED
    application.save(update_fields=["status", "decided_by", "decided_at"])
    enrolments = _enrol([application], start_date)
    audit_record(actor=principal, action="enrollment.application.decided", obj=application,
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
        _check_start(a.term, start_date)
    now = timezone.now()
    Application.objects.filter(pk__in=ids).update(
        status=Application.Status.APPROVED, decided_by=principal, decided_at=now)
    for a in locked:
        a.status = Application.Status.APPROVED
    enrolments = _enrol(locked, start_date)
    _audit_bulk(principal, "enrollment.application.decided", locked,
                {"decision": "approve", "bulk": True})
    from notifications.services import notify_many

    notify_many([
        dict(recipient=a.applicant, purpose="enrollment.decision",
             dedupe_key=f"enrollment.decision:{a.pk}:approved",
             subject=_("报名审核结果"),
             body=_("%(student)s 的课后服务报名：已批准。") % {"student": a.student.name},
             payload={"application": a.pk, "status": a.status})
        for a in locked
    ])
    return enrolments


# --- Leave and withdrawal (R10) ---------------------------------------------------------------

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
    if date.isoweekday() != slot.weekday:
        raise PolicyViolation(_("该日期不是所选时段的服务日。"), field="date")
    if date < timezone.localdate():
        raise PolicyViolation(_("不能为过去的日期请假。"), field="date")
    leave, created = Leave.objects.get_or_create(
        student=enrolment.student, date=date, slot=slot,
        defaults={"enrolment": enrolment, "reason": reason.strip(), "reported_by": user})
    if not created:
        raise Conflict(_("该日该时段已请假。"), code="already_reported")
    audit_record(actor=user, action="enrollment.leave.reported", obj=leave, school=term.school,
                 data={"date": date.isoformat(), "slot": slot.pk, "reason": leave.reason})
    return leave


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
    audit_record(actor=user, action="enrollment.withdrawal.requested", obj=withdrawal,
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
    audit_record(actor=principal, action="enrollment.withdrawal.decided", obj=withdrawal,
                 school=enrolment.term.school,
                 data={"approve": approve, "reason": reason,
                       "effective_date": withdrawal.effective_date.isoformat()})
    _notify(recipient=withdrawal.requested_by, purpose="enrollment.withdrawal",
            dedupe_key=f"enrollment.withdrawal:{withdrawal.pk}:{withdrawal.status}",
            subject=_("退出申请结果"),
            body=(_("%(student)s 的退出申请已批准，自 %(date)s 起不再参加课后服务。")
                  if approve else _("%(student)s 的退出申请未获批准。理由：%(reason)s"))
            % {"student": enrolment.student.name, "date": withdrawal.effective_date,
               "reason": reason},
            payload={"withdrawal": withdrawal.pk, "status": withdrawal.status})
    return withdrawal


@transaction.atomic
def enrolments_end_due(*, today: datetime.date | None = None) -> int:
    """Mark enrolments whose end date has passed as ended (run daily by beat)."""
    today = today or timezone.localdate()
    due = Enrolment.objects.select_for_update().filter(status=Enrolment.Status.ACTIVE,
                                                       end_date__lt=today)
    ids = list(due.values_list("pk", flat=True))
    Enrolment.objects.filter(pk__in=ids).update(status=Enrolment.Status.ENDED)
    if ids:
        content_type = ContentType.objects.get_for_model(Enrolment)
        AuditEntry.objects.bulk_create([
            AuditEntry(actor=None, action="enrollment.enrolment.ended",
                       content_type=content_type, object_id=str(pk),
                       object_repr=f"enrolment {pk}", data={"on": today.isoformat()})
            for pk in ids
        ])
    return len(ids)
