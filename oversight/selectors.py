"""Who oversees which school: district staff their district's schools; a school's principal
and office their own school (its indicators, not the district's)."""

import functools

from django.db.models import Q, QuerySet

from config.routers import replica_reads
from schools.models import MANAGER_ROLES, School, User
from schools.selectors import district_ids_for, school_ids_for


def is_district_staff(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(district_ids_for(user)))


def oversees(user: User) -> bool:
    """District staff, or a school's principal or office (their own school's indicators): a
    guardian or a teacher is refused (403) before any school is looked up."""
    return is_district_staff(user) or (user.is_authenticated
                                       and bool(school_ids_for(user, MANAGER_ROLES)))


def schools_overseen_by(user: User) -> QuerySet[School]:
    if not user.is_authenticated:
        return School.objects.none()
    if user.is_superuser:
        return School.objects.select_related("district")
    return School.objects.filter(
        Q(district_id__in=district_ids_for(user))
        | Q(pk__in=school_ids_for(user, MANAGER_ROLES))).select_related("district")


def on_replica(view):
    """Run a read-only view's queries on the read replica when one is configured (the
    district's figures tolerate its small lag; a city's dashboards stay off the primary)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)
    return wrapped
