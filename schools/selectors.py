"""Who may see what. Every view and API endpoint reads the roster through these functions;
nothing filters by hand. An object outside the caller's scope is simply not in the queryset,
so looking it up gives 404.

guardian → own children; homeroom teacher → own homerooms; serving teacher → own classes
(stages register how, see `register_student_scope`); principal, office, finance → own school;
district officer → own district's schools. A child's sensitive data (priority categories,
applications, evidence) is narrower: see `sensitive_scope`.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property

from .db import Sql
from .models import (
    DUTY_ROLES,
    MANAGER_ROLES,
    SCHOOL_WIDE_ROLES,
    District,
    Guardian,
    GuardianStudent,
    Homeroom,
    Membership,
    Role,
    School,
    Staff,
    Student,
    Term,
    TermCalendarDay,
    User,
)

_NOTHING = Q(pk__in=[])

# Stages add ways a user reaches students (e.g. scheduling: a serving teacher's temporary
# classes). Each callable takes the user and returns a Q over Student, or None.
_student_scope_extensions: list[Callable[[User], Q | None]] = []


def register_student_scope(fn: Callable[[User], Q | None]) -> Callable[[User], Q | None]:
    _student_scope_extensions.append(fn)
    return fn


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships, loaded once per request (cached on the user object)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_memberships_cache", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("school", "district"))
        user._memberships_cache = cached
    return cached


def school_ids_for(user: User, roles=SCHOOL_WIDE_ROLES) -> set[int]:
    return {m.school_id for m in memberships_of(user) if m.role in roles and m.school_id}


def district_ids_for(user: User) -> set[int]:
    return {m.district_id for m in memberships_of(user) if m.role == Role.DISTRICT}


def has_role(user: User, *roles: str, school: School | None = None) -> bool:
    return any(m.role in roles and (school is None or m.school_id == school.pk)
               for m in memberships_of(user))


def is_guardian(user: User) -> bool:
    return user.is_authenticated and Guardian.objects.filter(user=user).exists()


def _guardian_student_ids(user: User):
    return GuardianStudent.objects.filter(guardian__user=user).values("student_id")


def schools_visible_to(user: User) -> QuerySet[School]:
    if not user.is_authenticated:
        return School.objects.none()
    if user.is_superuser:
        return School.objects.all()
    staff_roles = {m.role for m in memberships_of(user)} - {Role.DISTRICT}
    q = Q(pk__in=school_ids_for(user, staff_roles))
    q |= Q(district_id__in=district_ids_for(user))
    q |= Q(pk__in=Student.objects.filter(pk__in=_guardian_student_ids(user)).values("school_id"))
    return School.objects.filter(q).select_related("district")


def districts_visible_to(user: User) -> QuerySet[District]:
    if user.is_superuser:
        return District.objects.all()
    return District.objects.filter(pk__in=district_ids_for(user))


def students_visible_to(user: User) -> QuerySet[Student]:
    if not user.is_authenticated:
        return Student.objects.none()
    base = Student.objects.select_related("school", "grade", "homeroom__grade")
    if user.is_superuser:
        return base
    q = Q(pk__in=_guardian_student_ids(user))
    if has_role(user, Role.HOMEROOM_TEACHER):
        q |= Q(homeroom__head_teacher__user=user)
    if school_ids := school_ids_for(user):
        q |= Q(school_id__in=school_ids)
    if district_ids := district_ids_for(user):
        q |= Q(school__district_id__in=district_ids)
    for extension in _student_scope_extensions:
        if (extra := extension(user)) is not None:
            q |= extra
    return base.filter(q)


def children_of(user: User) -> QuerySet[Student]:
    """A guardian's own children (the guardian view, whatever other roles the user holds)."""
    return (Student.objects.filter(pk__in=_guardian_student_ids(user))
            .select_related("school", "grade", "homeroom__grade"))


def homerooms_visible_to(user: User) -> QuerySet[Homeroom]:
    if not user.is_authenticated:
        return Homeroom.objects.none()
    base = Homeroom.objects.select_related("school", "grade", "head_teacher")
    if user.is_superuser:
        return base
    q = Q(pk__in=Student.objects.filter(pk__in=_guardian_student_ids(user)).values("homeroom_id"))
    q |= Q(head_teacher__user=user)
    q |= Q(school_id__in=school_ids_for(user))
    q |= Q(school__district_id__in=district_ids_for(user))
    return base.filter(q)


def staff_visible_to(user: User) -> QuerySet[Staff]:
    if not user.is_authenticated:
        return Staff.objects.none()
    if user.is_superuser:
        return Staff.objects.select_related("school")
    q = Q(school_id__in=school_ids_for(user)) | Q(school__district_id__in=district_ids_for(user))
    q |= Q(user=user)
    return Staff.objects.filter(q).select_related("school")


def guardians_visible_to(user: User) -> QuerySet[Guardian]:
    """District officers do not see guardians' contacts: the district needs figures, not phones
    (PIPL data minimisation)."""
    if not user.is_authenticated:
        return Guardian.objects.none()
    if user.is_superuser:
        return Guardian.objects.all()
    q = Q(user=user)
    staff_students = Q(pk__in=[])
    if has_role(user, Role.HOMEROOM_TEACHER):
        staff_students |= Q(homeroom__head_teacher__user=user)
    if school_ids := school_ids_for(user):
        staff_students |= Q(school_id__in=school_ids)
    q |= Q(links__student__in=Student.objects.filter(staff_students))
    return Guardian.objects.filter(
        pk__in=Guardian.objects.filter(q).values("pk")).select_related("user")


class SensitiveScope:
    """The children whose sensitive data (priority categories, applications with their claims,
    evidence and signature) a user may see: those they claim or decide for. One rule in two
    forms: a condition for a query (`q`, subqueries, no query of its own) and a test of a
    student in hand (`covers`, two queries at most, then none)."""

    def __init__(self, user: User):
        self.user = user
        signed_in = bool(getattr(user, "is_authenticated", False))
        self.schools = school_ids_for(user, MANAGER_ROLES) if signed_in else set()
        self.guardian_of = (_guardian_student_ids(user) if signed_in
                            else GuardianStudent.objects.none().values("student_id"))
        self.heads = (Homeroom.objects.filter(head_teacher__user=user).values("pk")
                      if signed_in and has_role(user, Role.HOMEROOM_TEACHER)
                      else Homeroom.objects.none())

    def q(self, path: str = "") -> Q:
        """Over Student, or over a model reaching it through `path` ("student__")."""
        return (Q(**{f"{path}pk__in": self.guardian_of})
                | Q(**{f"{path}homeroom_id__in": self.heads})
                | Q(**{f"{path}school_id__in": self.schools}))

    @cached_property
    def _students(self) -> set[int]:
        return set(self.guardian_of.values_list("student_id", flat=True))

    @cached_property
    def _homerooms(self) -> set[int]:
        return set(self.heads.values_list("pk", flat=True))

    def covers(self, student: Student) -> bool:
        return (student.school_id in self.schools or student.pk in self._students
                or student.homeroom_id in self._homerooms)


def sensitive_scope(user: User) -> SensitiveScope:
    """PIPL, minimum necessary (DESIGN.md): a child's own guardians, the homeroom teacher of the
    child's homeroom, and the principal and the after-school office of the child's school —
    nobody else: not a serving teacher, finance, another family, nor the district (which sees
    figures, never a child's categories). Cached on the user like its memberships."""
    cached = getattr(user, "_sensitive_scope_cache", None)
    if cached is None:
        cached = SensitiveScope(user)
        if getattr(user, "is_authenticated", False):
            user._sensitive_scope_cache = cached
    return cached


def sees_priority_categories(user: User, student: Student) -> bool:
    """Whether `user` may see the child's priority categories (and priority claims and flag):
    every page and serializer that shows them asks this."""
    return sensitive_scope(user).covers(student)


def terms_visible_to(user: User) -> QuerySet[Term]:
    return (Term.objects.filter(school__in=schools_visible_to(user).values("pk"))
            .select_related("school").prefetch_related("slots"))


def get_visible_or_404(queryset: QuerySet, **lookup):
    return get_object_or_404(queryset, **lookup)


def roles_of(user: User) -> list[dict]:
    """The user's roles as /api/v1/me/ lists them: memberships, then one guardian role per
    school where the user has a child."""
    roles = [{"role": m.role, "school": m.school_id, "district": m.district_id}
             for m in memberships_of(user)]
    guardian_schools = (Student.objects.filter(pk__in=_guardian_student_ids(user))
                        .values_list("school_id", "school__district_id").distinct()
                        .order_by("school_id"))
    roles += [{"role": Role.GUARDIAN.value, "school": s, "district": d}
              for s, d in guardian_schools]
    return roles


def school_managers(school_ids, roles=MANAGER_ROLES) -> QuerySet[Membership]:
    """The memberships of these schools in `roles`, with their users: by default the
    principals and after-school offices, who are told what a school must decide or act on."""
    return (Membership.objects.filter(role__in=list(roles), school_id__in=list(school_ids))
            .select_related("user"))


def duty_managers(school_ids) -> QuerySet[Membership]:
    """Who answers for children on site (R8): principals, offices and duty leaders."""
    return school_managers(school_ids, DUTY_ROLES)


def guardian_users_of(student_ids) -> dict[int, list[User]]:
    """Each child's guardians' user accounts, primary contact first (one query)."""
    guardians: dict[int, list[User]] = {}
    for link in (GuardianStudent.objects.filter(student_id__in=list(student_ids))
                 .select_related("guardian__user").order_by("-is_primary", "pk")):
        guardians.setdefault(link.student_id, []).append(link.guardian.user)
    return guardians


def guardian_user_ids_of(student_ids) -> dict[int, list[int]]:
    """Each child's guardians' user ids, primary contact first (one query, no rows built): for
    messages, which need only whom to address."""
    ids: dict[int, list[int]] = {}
    for student_id, user_id in (GuardianStudent.objects.filter(student_id__in=list(student_ids))
                                .order_by("-is_primary", "pk")
                                .values_list("student_id", "guardian__user_id")):
        ids.setdefault(student_id, []).append(user_id)
    return ids


def guardian_users_sql(student_id: int) -> Sql:
    """The child's guardians' user ids as an SQL FROM item (column `user_id`), for a statement
    that writes their notices (notifications.services.notify_sql)."""
    link, guardian = GuardianStudent._meta, Guardian._meta
    return Sql(f"(SELECT g.user_id FROM {link.db_table} gs JOIN {guardian.db_table} g "
               "ON g.id = gs.guardian_id WHERE gs.student_id = %s) AS guardians", (student_id,))


def is_staff_of_school(user: User, school_id: int) -> bool:
    """Any staff role at the school, or a district officer over it."""
    if user.is_superuser:
        return True
    if any(m.school_id == school_id for m in memberships_of(user)):
        return True
    return School.objects.filter(pk=school_id, district_id__in=district_ids_for(user)).exists()


# --- Terms and their calendar: the days every stage counts ------------------------------------

def current_term(school_id: int, day: datetime.date, *, or_next: bool = False) -> Term | None:
    """The school's term that contains `day`; with `or_next`, else the next one to start."""
    terms = Term.objects.filter(school_id=school_id).select_related("school").order_by("start")
    term = terms.filter(start__lte=day, end__gte=day).first()
    if term is None and or_next:
        term = terms.filter(start__gt=day).first()
    return term


def monday_of(day: datetime.date) -> datetime.date:
    """The Monday of the week of `day`: the key of a week's menu and timetable."""
    return day - datetime.timedelta(days=day.weekday())


def term_of_week(school_id: int, monday: datetime.date) -> Term | None:
    """The school's term that has some weekday of the week starting on `monday`."""
    return (Term.objects.filter(school_id=school_id, start__lte=monday + datetime.timedelta(days=4),
                                end__gte=monday)
            .select_related("school").order_by("start").first())


@dataclass(frozen=True)
class ServiceDay:
    """A date with service, and the weekday whose timetable runs on it (a make-up day runs
    the timetable of the weekday it stands for)."""

    date: datetime.date
    weekday: int


def service_days(term: Term, start: datetime.date | None = None,
                 end: datetime.date | None = None) -> list[ServiceDay]:
    """The days of `term` between `start` and `end` (inclusive, clipped to the term) that have
    service (R5): Monday to Friday except the term's excluded weekdays and its holidays, plus
    its make-up days (调休上课). One query."""
    start = max(start or term.start, term.start)
    end = min(end or term.end, term.end)
    if end < start:
        return []
    calendar = {d.date: d for d in TermCalendarDay.objects.filter(
        term=term, date__range=(start, end)).only("date", "kind", "runs_as_weekday")}
    excluded = set(term.excluded_weekdays)
    days, day = [], start
    while day <= end:
        entry = calendar.get(day)
        if entry is not None and entry.kind == TermCalendarDay.Kind.MAKEUP:
            weekday = entry.runs_as_weekday
        elif entry is not None and entry.kind == TermCalendarDay.Kind.HOLIDAY:
            weekday = None
        else:
            weekday = day.isoweekday() if day.isoweekday() <= 5 else None
        if weekday is not None and weekday not in excluded:
            days.append(ServiceDay(day, weekday))
        day += datetime.timedelta(days=1)
    return days


def slot_dates(term: Term, start: datetime.date | None = None, end: datetime.date | None = None,
               slots: Iterable | None = None) -> dict[int, list[datetime.date]]:
    """For each slot of the term (or of `slots`), the dates between `start` and `end` on which
    it actually runs. Two queries (one with `slots` given)."""
    slots = list(term.slots.all()) if slots is None else list(slots)
    by_weekday: dict[int, list[datetime.date]] = {}
    for day in service_days(term, start, end):
        by_weekday.setdefault(day.weekday, []).append(day.date)
    return {slot.pk: by_weekday.get(slot.weekday, []) for slot in slots}


def on_roll_by_school(school_ids: Iterable[int]) -> dict[int, int]:
    """Per school: the pupils on roll (在籍), boarding pupils excluded by rule (they are looked
    after at school): participation's denominator. One query."""
    rows = (Student.objects.filter(school_id__in=list(school_ids), active=True, boarding=False)
            .values("school_id").annotate(n=Count("pk")))
    return {row["school_id"]: row["n"] for row in rows}


def staff_by_school(school_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per school: active staff by kind (own teachers, external providers' staff)."""
    found: dict[int, dict[str, int]] = {}
    for row in (Staff.objects.filter(school_id__in=list(school_ids), active=True)
                .values("school_id", "kind").annotate(n=Count("pk"))):
        found.setdefault(row["school_id"], {})[row["kind"]] = row["n"]
    return found
