"""Who oversees which school: district staff their district's schools; a school's principal
and office their own school (its indicators, not the district's)."""

from django.db.models import Q, QuerySet

from schools.models import MANAGER_ROLES, School, User
from schools.selectors import district_ids_for, school_ids_for


def schools_overseen_by(user: User) -> QuerySet[School]:
    if not user.is_authenticated:
        return School.objects.none()
    if user.is_superuser:
        return School.objects.select_related("district")
    return School.objects.filter(
        Q(district_id__in=district_ids_for(user))
        | Q(pk__in=school_ids_for(user, MANAGER_ROLES))).select_related("district")
