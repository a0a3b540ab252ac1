"""Who sees which menus, classes and timetables (see schools.selectors for the scheme)."""

from django.db.models import Q, QuerySet

from schools.models import SCHOOL_ROLES, Role, Staff, Student, User
from schools.selectors import (
    children_of,
    district_ids_for,
    register_student_scope,
    school_ids_for,
)

from .models import Menu, MenuItem, Placement, TemporaryClass

MANAGING_ROLES = {Role.PRINCIPAL, Role.OFFICE}


def menus_visible_to(user: User) -> QuerySet[Menu]:
    """Staff of the school and the district see every menu; guardians the published ones of
    their children's schools."""
    if not user.is_authenticated:
        return Menu.objects.none()
    base = Menu.objects.select_related("school", "term")
    if user.is_superuser:
        return base
    q = Q(school_id__in=school_ids_for(user, SCHOOL_ROLES))
    q |= Q(school__district_id__in=district_ids_for(user))
    q |= Q(school_id__in=children_of(user).values("school_id")) & ~Q(status=Menu.Status.DRAFT)
    return base.filter(q)


def menus_managed_by(user: User) -> QuerySet[Menu]:
    if not user.is_authenticated:
        return Menu.objects.none()
    return Menu.objects.select_related("school", "term").filter(
        school_id__in=school_ids_for(user, MANAGING_ROLES))


def items_of(menu: Menu) -> QuerySet[MenuItem]:
    return menu.items.select_related("activity", "slot", "teacher")


def temporary_classes_visible_to(user: User) -> QuerySet[TemporaryClass]:
    """The school's staff who run it and the district see every class; a teacher the classes
    they head; a guardian the classes their children sit in."""
    if not user.is_authenticated:
        return TemporaryClass.objects.none()
    base = TemporaryClass.objects.select_related("menu__school", "slot", "head_teacher", "item")
    if user.is_superuser:
        return base
    q = Q(menu__school_id__in=school_ids_for(user))
    q |= Q(menu__school__district_id__in=district_ids_for(user))
    q |= Q(head_teacher__user=user)
    q |= Q(pk__in=Placement.objects.filter(student__in=children_of(user))
           .values("temporary_class_id"))
    return base.filter(q)


def own_children_only(request, cls: TemporaryClass) -> set[int] | None:
    """The ids a viewer may see among a class's members: None (all) for the school's staff,
    the district and the class's head teacher; a guardian sees only their own children."""
    user = getattr(request, "user", None)
    if user is None:
        return set()
    if (user.is_superuser or cls.menu.school_id in school_ids_for(user, SCHOOL_ROLES)
            or cls.menu.school.district_id in district_ids_for(user)
            or (cls.head_teacher is not None and cls.head_teacher.user_id == user.pk)):
        return None
    cache = getattr(request, "_own_children_ids", None)
    if cache is None:
        cache = set(children_of(user).values_list("pk", flat=True))
        request._own_children_ids = cache
    return cache


def classes_managed_by(user: User) -> QuerySet[TemporaryClass]:
    if not user.is_authenticated:
        return TemporaryClass.objects.none()
    return TemporaryClass.objects.select_related("menu__school", "slot", "item").filter(
        menu__school_id__in=school_ids_for(user, MANAGING_ROLES))


def staff_of(user: User) -> Staff | None:
    return Staff.objects.filter(user=user).select_related("school").first()


@register_student_scope
def _serving_teacher_students(user: User) -> Q | None:
    """A serving teacher reaches the children of the temporary classes they head (a subquery:
    no query of its own)."""
    return Q(pk__in=Placement.objects.filter(temporary_class__head_teacher__user=user)
             .values("student_id"))


def student_week(student: Student, menu: Menu) -> list[Placement]:
    return list(Placement.objects.filter(menu=menu, student=student)
                .select_related("temporary_class__head_teacher", "slot")
                .order_by("slot__weekday", "slot__start"))

