"""The enrollment reminders: who is due what today. Each reminder is a notification row with
a unique key (recipient, purpose, date or term), so a second run of the same day sends nothing
new (STYLE.md: periodic work scans the database; each reminder claims a unique row)."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify_many
from schools.models import GuardianStudent, User
from schools.selectors import school_managers

from .models import Application, TermPlan


def _current_plans(today: datetime.date):
    """The newest published plan of each term whose application window touches today."""
    plans = (TermPlan.objects.filter(status=TermPlan.Status.PUBLISHED,
                                     applications_open__isnull=False,
                                     applications_open__lte=today)
             .filter(Q(applications_close__isnull=True) | Q(applications_close__gte=today))
             .select_related("term__school").order_by("term_id", "-version"))
    seen, result = set(), []
    for plan in plans:
        if plan.term_id not in seen:
            seen.add(plan.term_id)
            result.append(plan)
    return result


def _guardians_of_school(school_id: int, *, without_application_in_term: int | None = None):
    links = GuardianStudent.objects.filter(student__school_id=school_id, student__active=True)
    if without_application_in_term is not None:
        applied = Application.objects.filter(
            student_id=OuterRef("student_id"), term_id=without_application_in_term
        ).exclude(status=Application.Status.CANCELLED)
        links = links.filter(~Exists(applied))
    return User.objects.filter(pk__in=links.values("guardian__user_id"), is_active=True)


def applications_open_reminders(today: datetime.date) -> int:
    rows = []
    for plan in _current_plans(today):
        if plan.applications_open != today:
            continue
        for user in _guardians_of_school(plan.term.school_id):
            rows.append(dict(
                recipient=user, purpose="enrollment.applications_open",
                school=plan.term.school_id,
                dedupe_key=f"enrollment.applications_open:{plan.term_id}:{user.pk}",
                subject=_("课后服务开始报名"),
                body=_("%(school)s %(term)s 课后服务已开始报名，截止 %(close)s。请先阅读服务方案。")
                % {"school": plan.term.school.name, "term": plan.term.name,
                   "close": plan.applications_close or "—"},
                url=reverse("enrollment:plan", args=[plan.term_id]),
                payload={"term": plan.term_id}))
    return notify_many(rows)


def applications_closing_reminders(today: datetime.date) -> int:
    """Two days before the close, to guardians who have not applied."""
    rows = []
    for plan in _current_plans(today):
        if plan.applications_close != today + datetime.timedelta(days=2):
            continue
        for user in _guardians_of_school(plan.term.school_id,
                                         without_application_in_term=plan.term_id):
            rows.append(dict(
                recipient=user, purpose="enrollment.applications_closing",
                school=plan.term.school_id,
                dedupe_key=f"enrollment.applications_closing:{plan.term_id}:{user.pk}",
                subject=_("课后服务报名即将截止"),
                body=_("%(school)s 课后服务报名将于 %(close)s 截止。如需参加，请尽快报名。")
                % {"school": plan.term.school.name, "close": plan.applications_close},
                url=reverse("enrollment:overview"),
                payload={"term": plan.term_id}))
    return notify_many(rows)


def review_digests(today: datetime.date) -> int:
    """Homeroom teachers: how many applications from their class wait for review."""
    pending = (Application.objects.filter(status=Application.Status.SUBMITTED)
               .values("student__homeroom__head_teacher__user_id")
               .annotate(n=Count("pk"))
               .filter(student__homeroom__head_teacher__user_id__isnull=False))
    counts = {row["student__homeroom__head_teacher__user_id"]: row["n"] for row in pending}
    users = User.objects.in_bulk(list(counts))
    return notify_many([
        dict(recipient=users[uid], purpose="enrollment.review_digest", urgency="bulk",
             dedupe_key=f"enrollment.review_digest:{uid}:{today.isoformat()}",
             subject=_("待班级审核的报名"),
             body=_("您的班级有 %(n)s 份课后服务报名等待审核。") % {"n": n},
             url=reverse("enrollment:review-queue"), payload={"pending": n})
        for uid, n in counts.items() if uid in users
    ])


def decision_digests(today: datetime.date) -> int:
    """Principals and the after-school office: applications waiting for approval."""
    pending = dict(Application.objects.filter(status=Application.Status.CLASS_APPROVED)
                   .values_list("term__school_id").annotate(n=Count("pk")))
    if not pending:
        return 0
    members = school_managers(pending)
    return notify_many([
        dict(recipient=m.user, purpose="enrollment.decision_digest", urgency="bulk",
             school=m.school_id,
             dedupe_key=f"enrollment.decision_digest:{m.user_id}:{m.school_id}:"
                        f"{today.isoformat()}",
             subject=_("待校长审定的报名"),
             body=_("有 %(n)s 份课后服务报名已通过班级审核，等待审定。")
             % {"n": pending[m.school_id]},
             url=reverse("enrollment:decide-queue"),
             payload={"pending": pending[m.school_id], "school": m.school_id})
        for m in members
    ])


def run_all(today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    return {
        "applications_open": applications_open_reminders(today),
        "applications_closing": applications_closing_reminders(today),
        "review_digests": review_digests(today),
        "decision_digests": decision_digests(today),
    }
