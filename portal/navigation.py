"""The top bar's links, by what the user does. Each stage adds its entries to `ENTRIES`, in
the order they appear; the ground knows none of them."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from schools.models import Role, User
from schools.selectors import children_of, has_role


@dataclass(frozen=True)
class Entry:
    url_name: str
    label: str | Promise
    shown_to: Callable[[User, bool], bool]  # (user, is a guardian) → shown?


def _guardian(user: User, is_parent: bool) -> bool:
    return is_parent


def _roles(*roles: str, or_guardian: bool = False) -> Callable[[User, bool], bool]:
    def shown(user: User, is_parent: bool) -> bool:
        return (or_guardian and is_parent) or has_role(user, *roles)

    return shown


ENTRIES: list[Entry] = [
    # enrollment
    Entry("enrollment:overview", _("报名与在读"), _guardian),
    Entry("enrollment:review-queue", _("班级审核"), _roles(Role.HOMEROOM_TEACHER)),
    Entry("enrollment:decide-queue", _("报名审定"), _roles(Role.PRINCIPAL, Role.OFFICE)),
    # scheduling
    Entry("scheduling:menus", _("每周菜单"),
          _roles(Role.PRINCIPAL, Role.OFFICE, or_guardian=True)),
    Entry("scheduling:teacher-week", _("我的临时班"),
          _roles(Role.TEACHER, Role.HOMEROOM_TEACHER)),
    # attendance
    Entry("attendance:today", _("接送"),
          _roles(Role.TEACHER, Role.HOMEROOM_TEACHER, Role.PRINCIPAL, Role.OFFICE,
                 Role.DUTY_LEADER, or_guardian=True)),
    # oversight
    Entry("oversight:dashboard", _("区域概况"), _roles(Role.DISTRICT)),
    Entry("oversight:dashboard", _("本校指标"), _roles(Role.PRINCIPAL, Role.OFFICE)),
    # billing
    Entry("billing:home", _("收费"),
          _roles(Role.FINANCE, Role.PRINCIPAL, Role.OFFICE, or_guardian=True)),
]


def navigation(request):
    """Context processor: `nav_links`, a list of (url, label)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    is_parent = children_of(user).exists()
    return {"nav_links": [(reverse(e.url_name), str(e.label)) for e in ENTRIES
                          if e.shown_to(user, is_parent)]}
