"""The scheduling stage's audit action names, defined once; labels are what a history shows."""

from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

from schools.audit import AuditAction


class SchedulingAction(AuditAction):
    ACTIVITY_CREATED = "scheduling.activity.created", _("新增活动")
    MENU_CREATED = "scheduling.menu.created", _("新建每周菜单")
    MENU_ITEM_ADDED = "scheduling.menu.item_added", _("菜单添加活动")
    MENU_ITEM_REMOVED = "scheduling.menu.item_removed", _("菜单移除活动")
    MENU_PUBLISHED = "scheduling.menu.published", _("发布菜单")
    MENU_PREVIEWED = "scheduling.menu.previewed", _("预览分班")
    MENU_ALLOCATED = "scheduling.menu.allocated", _("确认分班")
    CHOICES_SET = "scheduling.choices.set", _("家长填报志愿")
    PLACEMENT_ADDED = "scheduling.placement.added", _("加入临时班")
    PLACEMENT_MOVED = "scheduling.placement.moved", _("调班")
    PLACEMENT_SWAPPED = "scheduling.placement.swapped", _("对调临时班")
    PLACEMENT_JOINED = "scheduling.placement.joined", _("分班后加入托管自习班")
    STUDY_HALL_OPENED = "scheduling.study_hall.opened", _("新开托管自习班")


# Sent inside the transaction that creates a week's temporary classes (an allocation's commit, a
# study hall opened for joiners), so a later stage's reaction commits or rolls back with it:
# attendance creates the classes' sessions. Arguments: `menu`, `classes` (a list).
classes_created = Signal()
