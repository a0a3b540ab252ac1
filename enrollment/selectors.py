"""Reads of the enrollment stage, scoped to the caller through the roster's selectors."""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from schools.models import PriorityCategory, Role, ServiceSlot, Student, Term, User
from schools.selectors import (
    children_of,
    current_term,
    district_ids_for,
    has_role,
    school_ids_for,
    sensitive_scope,
    students_visible_to,
    terms_visible_to,
)

from .models import (
    Application,
    ClaimEvidence,
    Enrolment,
    FeeStandard,
    Leave,
    TermPlan,
    Withdrawal,
    covers_day,
)

DECIDER_ROLES = {Role.PRINCIPAL, Role.OFFICE}


def applications_visible_to(user: User) -> QuerySet[Application]:
    """Applications carry priority claims, evidence and the signature with its IP address, so
    they are read only by those who claim or decide with them (`sensitive_scope`: the child's
    guardians, homeroom teacher, the school's principal and office); a serving teacher who
    reaches the child through a temporary class, finance and the district do not."""
    return (Application.objects
            .filter(sensitive_scope(user).q("student__"))
            .select_related("student__grade", "student__homeroom", "term__school", "applicant",
                            "plan")
            .prefetch_related("slots", "evidence"))


def evidence_visible_to(user: User) -> QuerySet[ClaimEvidence]:
    """Evidence files: to the readers of their application, no one else."""
    return (ClaimEvidence.objects.filter(sensitive_scope(user).q("application__student__"))
            .select_related("application"))


def application_for_guardian(user: User, pk: int) -> Application:
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
    return get_object_or_404(
        enrolments_visible_to(user).filter(student__in=children_of(user).values("pk")), pk=pk)


def leaves_of_children(user: User, *, since: datetime.date) -> QuerySet[Leave]:
    """A guardian's list of their children's leave from `since` on."""
    return leaves_between(since, datetime.date.max, students=children_of(user).values("pk"))


@dataclass(frozen=True)
class ChildEnrollment:
    """Where a child stands in the current (or coming) term: its plan, the latest application
    that was not withdrawn, the latest enrolment and its pending withdrawal."""

    child: Student
    term: Term | None
    plan: TermPlan | None
    application: Application | None
    enrolment: Enrolment | None
    withdrawal: Withdrawal | None

    @property
    def enrolled(self) -> bool:
        return self.enrolment is not None and self.enrolment.status == Enrolment.Status.ACTIVE

    def window_open(self, today: datetime.date) -> bool:
        """Whether the plan takes applications on `today` (R2: inside its window)."""
        return self.plan is not None and self.plan.takes_applications_on(today)


def child_enrollment(child: Student, today: datetime.date) -> ChildEnrollment:
    term = current_term(child.school_id, today, or_next=True)
    if term is None:
        return ChildEnrollment(child, None, None, None, None, None)
    application = (Application.objects.filter(student=child, term=term)
                   .exclude(status=Application.Status.CANCELLED)
                   .order_by("-submitted_at").first())
    enrolment = (Enrolment.objects.filter(student=child, term=term)
                 .prefetch_related("slots", "withdrawals").order_by("-id").first())
    withdrawal = (next((w for w in enrolment.withdrawals.all()
                        if w.status == Withdrawal.Status.REQUESTED), None)
                  if enrolment else None)
    return ChildEnrollment(child, term, plan_current(term), application, enrolment, withdrawal)


def withdrawals_to_decide(user: User) -> QuerySet[Withdrawal]:
    schools = school_ids_for(user, DECIDER_ROLES)
    return (Withdrawal.objects.filter(enrolment__term__school_id__in=schools)
            .select_related("enrolment__student__homeroom", "enrolment__term__school",
                            "requested_by"))


def plan_current(term: Term) -> TermPlan | None:
    """The term's latest published plan (R2), or None before any publication."""
    return term.plans.filter(status=TermPlan.Status.PUBLISHED).order_by("-version").first()


def plan_for(user: User, term_pk: int) -> TermPlan:
    """The current published plan of a term the user may see (guardians of the school, staff,
    the district); 404 otherwise or before anything is published."""
    term = get_object_or_404(terms_visible_to(user), pk=term_pk)
    plan = plan_current(term)
    if plan is None:
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


# --- Published reads for the later stages (scheduling, attendance, billing, oversight) -------


FeeMode = FeeStandard.Mode


def fee_standards_of(term: Term | int) -> list[FeeStandard]:
    """The term's published fee standard versions (R11), oldest first: on a day, the one in
    force is the last whose effective date is not after it. Empty: nothing may be charged."""
    return list(FeeStandard.objects.filter(term=term).order_by("effective_from"))


def fee_standard_on(standards: list[FeeStandard], day: datetime.date) -> FeeStandard | None:
    """The version of `standards` (as `fee_standards_of` gives them) in force on `day`."""
    found = None
    for standard in standards:
        if standard.effective_from > day:
            break
        found = standard
    return found


def enrolments_in_force(term: Term, start: datetime.date, end: datetime.date | None = None, *,
                        slot: ServiceSlot | int | None = None) -> QuerySet[Enrolment]:
    """The term's enrolments in force on some day of [start, end] (on `start` alone when
    `end` is None): started, not ended, not withdrawn; with `slot`, enrolled in that slot.
    `Enrolment.covers(day, slot)` is the same rule for one enrolment in hand."""
    qs = Enrolment.objects.filter(Enrolment.in_force_q(start, end), term=term)
    if slot is not None:
        qs = qs.filter(slots=slot)
    return qs


def term_enrolments(term: Term | int, students: Iterable[Student | int] | None = None
                    ) -> QuerySet[Enrolment]:
    """Every enrolment of the term, ended ones included (settlement reads what each was
    charged for), with its slots."""
    qs = Enrolment.objects.filter(term=term).prefetch_related("slots").order_by("student_id",
                                                                                 "start_date")
    if students is not None:
        qs = qs.filter(student__in=students)
    return qs


def term_leave_days(term: Term | int, students: Iterable[Student | int] | None = None
                    ) -> set[tuple[int, datetime.date, int]]:
    """The (student, date, slot) of every leave reported in the term (R10: reported leave is
    excused and not charged at settlement). One query, no rows built."""
    qs = Leave.objects.filter(enrolment__term=term)
    if students is not None:
        qs = qs.filter(student__in=students)
    return set(qs.values_list("student_id", "date", "slot_id"))


def low_income_certified(student: Student | int, term: Term | int) -> ClaimEvidence | None:
    """The verified evidence of the family's economic difficulty (R4 家庭经济困难) on the
    child's application for the term, if the homeroom teacher verified one: the certification
    a fee waiver rests on (R11)."""
    return (ClaimEvidence.objects.filter(
        application__student=student, application__term=term,
        code=PriorityCategory.LOW_INCOME, verified_at__isnull=False)
        .order_by("-verified_at").first())


def slot_enrolments_in_force(term: Term, days: dict[int, datetime.date],
                             students: Iterable[Student | int] | None = None, *,
                             created_after: datetime.datetime | None = None) -> list[tuple]:
    """For slots and the day each runs ({slot id: date}), the children enrolled in the slot
    and in force on its day: rows of (slot id, student id, grade number, homeroom id,
    priority); with `created_after`, only enrolments made since (who joined after a week's
    allocation). One query, a plain join (an IN subquery can be misjudged badly by the
    planner on freshly written rows)."""
    if not days:
        return []
    rows = Enrolment.slots.through.objects.filter(
        Enrolment.in_force_q(min(days.values()), max(days.values()), path="enrolment__"),
        enrolment__term=term, serviceslot_id__in=list(days))
    if students is not None:
        rows = rows.filter(enrolment__student__in=students)
    if created_after is not None:
        rows = rows.filter(enrolment__created_at__gt=created_after)
    rows = rows.values_list(
        "serviceslot_id", "enrolment__student_id", "enrolment__student__grade__number",
        "enrolment__student__homeroom_id", "enrolment__application__is_priority",
        "enrolment__status", "enrolment__start_date", "enrolment__end_date")
    return [(slot_id, student_id, grade, homeroom_id, bool(priority))
            for slot_id, student_id, grade, homeroom_id, priority, status, start, end in rows
            if covers_day(status, start, end, days[slot_id])]


def is_enrolled_on(student: Student | int, term: Term, day: datetime.date,
                   slot: ServiceSlot | int) -> bool:
    """Whether the child is enrolled in `slot` and in force on `day`."""
    return enrolments_in_force(term, day, slot=slot).filter(
        student=student).exists()


def guardians_of_enrolled_between(term: Term, start: datetime.date,
                                  end: datetime.date | None = None) -> QuerySet[User]:
    """The user accounts of the guardians of every child in force on some day of the range."""
    path = "guardian_profile__links__student__enrolments__"
    return User.objects.filter(Enrolment.in_force_q(start, end, path=path),
                               **{f"{path}term": term}).distinct()


def leaves_between(start: datetime.date, end: datetime.date, *,
                   slot: ServiceSlot | int | None = None,
                   students: Iterable[Student | int] | None = None) -> QuerySet[Leave]:
    """Reported leave (R10: a guardian's report is the approval; it excuses the absence) over
    a range of days, optionally in one slot and for some children."""
    qs = (Leave.objects.filter(date__range=(start, end)).select_related("student", "slot")
          .order_by("date", "slot__start", "student_id"))
    if slot is not None:
        qs = qs.filter(slot=slot)
    if students is not None:
        qs = qs.filter(student__in=students)
    return qs


def leaves_on(day: datetime.date, **filters) -> QuerySet[Leave]:
    """Reported leave for one day (`slot=`, `students=` as for `leaves_between`)."""
    return leaves_between(day, day, **filters)


# Bit n of an enrolment's weekday mask is set when one of its slots falls on weekday n (1
# Monday to 7 Sunday); the database keeps the mask (migration 0007).
WEEKDAYS_MASK = sum(1 << d for d in range(1, 6))


def served_by_term(term_days: Iterable[tuple[int, datetime.date]]
                   ) -> dict[tuple[int, datetime.date], tuple[int, int]]:
    """Per (term, day) asked for: the children on roll and not boarding with an enrolment of
    that term in force on the day and a slot on a weekday, and those of them whose slots cover
    all five weekdays (R5). One query whatever the number of terms and days (a child has one
    enrolment in force per term at most)."""
    pairs = list(term_days)
    if not pairs:
        return {}
    # The enrolments are counted by span first (most share their term's first day, so a city's
    # come down to a few thousand spans), then each span is matched with the days it covers.
    sql = f"""
        WITH spans AS (
            SELECT e.term_id, e.start_date, e.end_date, COUNT(*) AS n,
                   COUNT(*) FILTER (WHERE e.weekday_mask & %(all)s = %(all)s) AS all_week
            FROM {Enrolment._meta.db_table} e
            JOIN {Student._meta.db_table} st ON st.id = e.student_id
            WHERE e.term_id = ANY(%(terms)s) AND e.status = %(active)s
              AND e.weekday_mask & %(all)s <> 0 AND st.active AND NOT st.boarding
            GROUP BY e.term_id, e.start_date, e.end_date)
        SELECT td.term_id, td.day, SUM(s.n), SUM(s.all_week)
        FROM unnest(%(terms)s::bigint[], %(days)s::date[]) AS td(term_id, day)
        JOIN spans s ON s.term_id = td.term_id AND s.start_date <= td.day
             AND (s.end_date IS NULL OR s.end_date >= td.day)
        GROUP BY td.term_id, td.day"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"all": WEEKDAYS_MASK, "active": Enrolment.Status.ACTIVE,
                             "terms": [t for t, _day in pairs], "days": [d for _t, d in pairs]})
        return {(term, day): (int(served), int(all_week))
                for term, day, served, all_week in cursor.fetchall()}


@dataclass
class TermFacts:
    """What oversight reads of a term's enrollment: its latest fee standard (None: none
    published), priority applications and how many were approved, approved withdrawals, and
    refusals without a recorded reason (R1: should be none)."""

    fee_standard: FeeStandard | None = None
    priority: int = 0
    priority_approved: int = 0
    withdrawals: int = 0
    refused_without_reason: int = 0


def term_facts(term_ids: Iterable[int], until: datetime.date | None = None
               ) -> dict[int, TermFacts]:
    """Per term, four queries whatever their number; withdrawals decided by `until` if given."""
    ids = list(term_ids)
    facts = {t: TermFacts() for t in ids}
    for standard in FeeStandard.objects.filter(term_id__in=ids).order_by("effective_from"):
        facts[standard.term_id].fee_standard = standard
    for row in (Application.objects.filter(term_id__in=ids, is_priority=True)
                .exclude(status=Application.Status.CANCELLED).values("term_id")
                .annotate(n=Count("pk"),
                          approved=Count("pk", filter=Q(status=Application.Status.APPROVED)))):
        facts[row["term_id"]].priority = row["n"]
        facts[row["term_id"]].priority_approved = row["approved"]
    withdrawals = Withdrawal.objects.filter(enrolment__term_id__in=ids,
                                            status=Withdrawal.Status.APPROVED)
    if until is not None:
        withdrawals = withdrawals.filter(decided_at__date__lte=until)
    for row in (withdrawals.values("enrolment__term_id").annotate(n=Count("pk"))):
        facts[row["enrolment__term_id"]].withdrawals = row["n"]
    for row in (Application.objects.filter(term_id__in=ids, status=Application.Status.REJECTED,
                                           reason="")
                .values("term_id").annotate(n=Count("pk"))):
        facts[row["term_id"]].refused_without_reason = row["n"]
    return facts


def leave_matching(student, date, slot) -> QuerySet[Leave]:
    """Reported leave of a child for a date and slot; with OuterRef arguments, the subquery of
    an Exists() that a later stage counts with in SQL."""
    return Leave.objects.filter(student_id=student, date=date, slot_id=slot)


def enrolled_pupils(school_id: int, day: datetime.date) -> Iterator[dict]:
    """The school's children with an enrolment in force on `day`, for a district sheet: name,
    grade, class, how many weekdays their slots cover, and the enrolment's dates. One query,
    read in batches as the caller goes; nothing else about the child."""
    for row in (Enrolment.objects.filter(Enrolment.in_force_q(day), term__school_id=school_id)
                .values("student__name", "student__grade__number", "student__homeroom__name",
                        "start_date", "end_date")
                .annotate(weekdays=Count("slots__weekday", distinct=True))
                .order_by("student__grade__number", "student__homeroom__name", "student__name")
                .iterator(chunk_size=2000)):
        yield {"name": row["student__name"], "grade": row["student__grade__number"],
               "homeroom": row["student__homeroom__name"] or "", "weekdays": row["weekdays"],
               "start": row["start_date"], "end": row["end_date"]}


def waiting_by_school(school_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Open applications and withdrawal requests per school: waiting for the class review,
    for the principal's decision, and withdrawals to decide."""
    result: dict[int, dict[str, int]] = {
        pk: {"review": 0, "decide": 0, "withdrawals": 0} for pk in school_ids}
    for row in (Application.objects.filter(
            term__school_id__in=result,
            status__in=[Application.Status.SUBMITTED, Application.Status.CLASS_APPROVED])
            .values("term__school_id", "status").annotate(n=Count("pk"))):
        key = "review" if row["status"] == Application.Status.SUBMITTED else "decide"
        result[row["term__school_id"]][key] = row["n"]
    for row in (Withdrawal.objects.filter(enrolment__term__school_id__in=result,
                                          status=Withdrawal.Status.REQUESTED)
                .values("enrolment__term__school_id").annotate(n=Count("pk"))):
        result[row["enrolment__term__school_id"]]["withdrawals"] = row["n"]
    return result
