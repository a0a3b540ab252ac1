from django.urls import reverse
from django.utils.translation import gettext as _

from .models import Role
from .selectors import children_of, has_role


def navigation(request):
    """The links of the top bar, by what the user does (a guardian, a reviewer, a principal)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    links = []
    is_parent = children_of(user).exists()
    if is_parent:
        links.append((reverse("enrollment:overview"), _("报名与在读")))
    if has_role(user, Role.HOMEROOM_TEACHER):
        links.append((reverse("enrollment:review-queue"), _("班级审核")))
    if has_role(user, Role.PRINCIPAL, Role.OFFICE):
        links.append((reverse("enrollment:decide-queue"), _("报名审定")))
    if is_parent or has_role(user, Role.PRINCIPAL, Role.OFFICE):
        links.append((reverse("scheduling:menus"), _("每周菜单")))
    if has_role(user, Role.TEACHER, Role.HOMEROOM_TEACHER):
        links.append((reverse("scheduling:teacher-week"), _("我的临时班")))
    return {"nav_links": links}
