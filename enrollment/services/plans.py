"""The term plan (R2): drafts, numbered published versions; and the needs survey."""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import InvalidTransition, PolicyViolation
from schools.models import ServiceSlot, Student, Term, User

from ..events import EnrollmentAction
from ..models import SurveyResponse, TermPlan
from ..selectors import plan_current
from .applications import check_slots
from .fees import fee_paragraph

PLAN_FIELDS = (
    "service_days", "menu_outline", "staffing", "fee_standard", "fee_settlement",
    "withdrawal_rule", "safety_measures", "agreement_text", "complaint_phone",
    "complaint_email", "applications_open", "applications_close",
)


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
    audit_record(actor=user, action=EnrollmentAction.PLAN_DRAFT_SAVED, obj=draft,
                 school=term.school, data={"fields": sorted(fields)})
    return draft


@transaction.atomic
def plan_publish(*, plan: TermPlan, user: User) -> TermPlan:
    plan = TermPlan.objects.select_for_update().select_related("term__school").get(pk=plan.pk)
    if plan.status != TermPlan.Status.DRAFT:
        raise InvalidTransition(plan.get_status_display(), _("公示"))
    # R11: once a fee standard is published, the plan's fee paragraph is generated from it.
    if (fees := fee_paragraph(plan.term)):
        plan.fee_standard = fees
    missing = [str(TermPlan._meta.get_field(f).verbose_name)
               for f in ("agreement_text", "complaint_phone", "fee_standard", "withdrawal_rule",
                         "safety_measures")
               if not getattr(plan, f)]
    if missing:
        raise PolicyViolation(_("公示前须填写：%s") % "、".join(missing))
    # R2: the plan tells families when they may apply; a plan without its window would
    # publish a version nobody can apply under.
    if not plan.applications_open or not plan.applications_close:
        raise PolicyViolation(_("公示前须填写报名开始和截止日期。"),
                              field="applications_open" if not plan.applications_open
                              else "applications_close")
    if plan.applications_close < plan.applications_open:
        raise PolicyViolation(_("报名截止日期不能早于开始日期。"), field="applications_close")
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
                             "slots_snapshot", "fee_standard"])
    audit_record(actor=user, action=EnrollmentAction.PLAN_PUBLISHED, obj=plan,
                 school=term.school, data={"version": plan.version})
    return plan


@transaction.atomic
def survey_submit(*, term: Term, student: Student, guardian: User,
                  slots: Sequence[ServiceSlot]) -> SurveyResponse:
    check_slots(term, slots, allow_empty=True)
    response, _created = SurveyResponse.objects.update_or_create(
        term=term, student=student, defaults={"guardian": guardian})
    response.slots.set(slots)
    audit_record(actor=guardian, action=EnrollmentAction.SURVEY_ANSWERED, obj=response,
                 school=term.school, data={"slots": [s.pk for s in slots]})
    return response


@transaction.atomic
def plan_save_and_publish(*, term: Term, user: User, **fields) -> TermPlan:
    """The editor's "save and publish": both or neither (a refused publication keeps no
    half-saved draft)."""
    draft = plan_save_draft(term=term, user=user, **fields)
    return plan_publish(plan=draft, user=user)
