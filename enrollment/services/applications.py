"""A guardian's application (R1, R3, R4): submitted and signed on the current agreement
version, corrected and resubmitted when returned, or cancelled."""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import Conflict, InvalidTransition, PolicyViolation
from schools.models import PriorityCategory, ServiceSlot, Student, Term, User

from ..events import EnrollmentAction
from ..models import Application, ClaimEvidence, Enrolment, Signature, TermPlan
from ..selectors import plan_current

# R4: pupils of grades 1–2 are a priority group without any claim.
LOWER_GRADES = (1, 2)


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


def check_slots(term: Term, slots: Sequence[ServiceSlot], *, allow_empty: bool = False):
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
    if plan.takes_applications_on(today):
        return
    if plan.applications_open and today < plan.applications_open:
        raise Conflict(_("报名将于 %(d)s 开始。") % {"d": plan.applications_open},
                       code="applications_not_open")
    if plan.applications_close and today > plan.applications_close:
        raise Conflict(_("报名已于 %(d)s 截止。") % {"d": plan.applications_close},
                       code="applications_closed")


def check_start(term: Term, start_date: datetime.date | None) -> None:
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
    check_slots(term, slots)
    claims = _check_claims(priority_claims)
    check_start(term, start_date)
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
    audit_record(actor=applicant, action=EnrollmentAction.APPLICATION_SUBMITTED, obj=application,
                 school=term.school,
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
    application = lock_application(application)
    if application.status != Application.Status.RETURNED:
        raise InvalidTransition(application.get_status_display(), _("重新提交"))
    plan = plan_current(application.term)
    _check_signature(plan, signature, guardian_name)
    check_slots(application.term, slots)
    claims = _check_claims(priority_claims)
    check_start(application.term, start_date)
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
    audit_record(actor=applicant, action=EnrollmentAction.APPLICATION_RESUBMITTED, obj=application,
                 school=application.term.school,
                 data={"slots": [s.pk for s in slots], "priority_claims": claims})
    return application


def lock_application(application: Application) -> Application:
    return (Application.objects.select_for_update(of=("self",))
            .select_related("student__grade", "term__school").get(pk=application.pk))


@transaction.atomic
def application_cancel(*, application: Application, user: User) -> Application:
    application = lock_application(application)
    if application.status not in Application.OPEN_STATUSES:
        raise InvalidTransition(application.get_status_display(), _("撤回"))
    application.status = Application.Status.CANCELLED
    application.save(update_fields=["status"])
    audit_record(actor=user, action=EnrollmentAction.APPLICATION_CANCELLED, obj=application,
                 school=application.term.school)
    return application
