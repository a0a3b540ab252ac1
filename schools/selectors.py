"""Who may see what. Every view and API endpoint reads the roster through these functions;
nothing filters by hand. An object outside the caller's scope is simply not in the queryset,
so looking it up gives 404.

guardian → own children; homeroom teacher → own homerooms; serving teacher → own classes
(stages register how, see `register_student_scope`); principal, office, finance → own school;
district officer → own district's schools.
"""

from collections.abc import Callable

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import (
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


def is_staff_of_school(user: User, school_id: int) -> bool:
    """Any staff role at the school, or a district officer over it."""
    if user.is_superuser:
        return True
    if any(m.school_id == school_id for m in memberships_of(user)):
        return True
    return School.objects.filter(pk=school_id, district_id__in=district_ids_for(user)).exists()
