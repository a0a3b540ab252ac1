"""Reads of the enrollment stage, scoped to the caller through the roster's selectors."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from schools.models import Role, Term, User
from schools.selectors import (
    district_ids_for,
    has_role,
    school_ids_for,
    students_visible_to,
    terms_visible_to,
)

from .models import Application, Enrolment, TermPlan, Withdrawal

DECIDER_ROLES = {Role.PRINCIPAL, Role.OFFICE}


def applications_visible_to(user: User) -> QuerySet[Application]:
    return (Application.objects
            .filter(student__in=students_visible_to(user).values("pk"))
            .select_related("student__grade", "student__homeroom", "term__school", "applicant",
                            "plan")
            .prefetch_related("slots", "evidence"))


def application_for_guardian(user: User, pk: int) -> Application:
    from schools.selectors import children_of

    return get_object_or_404(
        applications_visible_to(user).filter(student__in=children_of(user).values("pk")), pk=pk)


def applications_to_review(user: User) -> QuerySet[Application]:
    """The homeroom teacher's queue: applications from their own homerooms only."""
    if not has_role(user, Role.HOMEROOM_TEACHER):
        return Application.objects.none()
    return applications_visible_to(user).filter(student__homeroom__head_teacher__user=user)


def applications_to_decide(user: User) -> QuerySet[Application]:
    """The principal's (or after-school office's) queue: their school, priority groups first."""
    schools = school_ids_for(user, DECIDER_ROLES)
    return (applications_visible_to(user).filter(term__school_id__in=schools)
            .order_by("-is_priority", "student__grade__number", "submitted_at", "id"))


def enrolments_visible_to(user: User) -> QuerySet[Enrolment]:
    return (Enrolment.objects.filter(student__in=students_visible_to(user).values("pk"))
            .select_related("student__grade", "student__homeroom", "term__school")
            .prefetch_related("slots"))


def enrolment_for_guardian(user: User, pk: int) -> Enrolment:
    from schools.selectors import children_of

    return get_object_or_404(
        enrolments_visible_to(user).filter(student__in=children_of(user).values("pk")), pk=pk)


def withdrawals_to_decide(user: User) -> QuerySet[Withdrawal]:
    schools = school_ids_for(user, DECIDER_ROLES)
    return (Withdrawal.objects.filter(enrolment__term__school_id__in=schools)
            .select_related("enrolment__student__homeroom", "enrolment__term__school",
                            "requested_by"))


def plan_for(user: User, term_pk: int) -> TermPlan:
    """The current published plan of a term the user may see (guardians of the school, staff,
    the district); 404 otherwise or before anything is published."""
    term = get_object_or_404(terms_visible_to(user), pk=term_pk)
    plan = term.plans.filter(status=TermPlan.Status.PUBLISHED).order_by("-version").first()
    if plan is None:
        from django.http import Http404

        raise Http404
    return plan


def plan_draft_for(user: User, term: Term) -> TermPlan | None:
    return term.plans.filter(status=TermPlan.Status.DRAFT).first()


def terms_managed_by(user: User) -> QuerySet[Term]:
    return Term.objects.filter(school_id__in=school_ids_for(user, DECIDER_ROLES)) \
        .select_related("school")


def is_district_officer(user: User) -> bool:
    return bool(district_ids_for(user))


def application_counts(term: Term) -> dict:
    """The principal's figures: applied, by status, and refusal/return reasons."""
    qs = term.applications.exclude(status=Application.Status.CANCELLED)
    counts = qs.aggregate(
        applied=Count("pk"),
        submitted=Count("pk", filter=Q(status=Application.Status.SUBMITTED)),
        class_approved=Count("pk", filter=Q(status=Application.Status.CLASS_APPROVED)),
        approved=Count("pk", filter=Q(status=Application.Status.APPROVED)),
        returned=Count("pk", filter=Q(status=Application.Status.RETURNED)),
        rejected=Count("pk", filter=Q(status=Application.Status.REJECTED)),
        priority=Count("pk", filter=Q(is_priority=True)),
        priority_approved=Count("pk", filter=Q(is_priority=True,
                                               status=Application.Status.APPROVED)),
    )
    counts["reasons"] = list(
        qs.filter(status__in=[Application.Status.RETURNED, Application.Status.REJECTED])
        .values("status", "reason").annotate(n=Count("pk")).order_by("-n", "reason")[:20])
    return counts
