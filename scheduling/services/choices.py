"""Choices (菜单双选): a guardian ranks activities per enrolled slot before the deadline."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import Conflict, PolicyViolation
from schools.formats import moment_label
from schools.models import ServiceSlot, Student, User

from .. import selectors
from ..events import SchedulingAction
from ..models import Choice, Menu, MenuItem


@transaction.atomic
def choices_set(*, menu: Menu, student: Student, slot: ServiceSlot, items: Sequence[MenuItem],
                user: User) -> list[Choice]:
    """Replace a child's ranking for one slot (best first); an empty list withdraws it (the
    child goes to supervised homework and reading)."""
    menu = Menu.objects.select_related("school", "term").get(pk=menu.pk)
    if menu.status != Menu.Status.PUBLISHED:
        raise Conflict(_("菜单尚未发布或已分班，不能选课。"), code="menu_not_open")
    if timezone.now() >= menu.choice_deadline:
        raise Conflict(_("选课已于 %s 截止。") % moment_label(menu.choice_deadline),
                       code="deadline_passed")
    if slot.term_id != menu.term_id:
        raise PolicyViolation(_("该时段不属于本周菜单。"), field="slot")
    if not selectors.is_enrolled_in_week(menu, student, slot):
        raise PolicyViolation(_("孩子没有报名该时段的课后服务。"), field="slot")
    limit = menu.school.choices_per_slot
    if len(items) > limit:
        raise PolicyViolation(_("每个时段最多填报 %d 个志愿。") % limit, field="ranked")
    if len({i.pk for i in items}) != len(items):
        raise PolicyViolation(_("同一活动不能重复填报。"), field="ranked")
    for item in items:
        if item.menu_id != menu.pk or item.slot_id != slot.pk:
            raise PolicyViolation(_("所选活动不在本周该时段的菜单中。"), field="ranked")
        if student.grade.number not in item.grades:
            raise PolicyViolation(_("“%(activity)s”不面向%(grade)s。") % {
                "activity": item.activity.name, "grade": student.grade.name}, field="ranked")
    Choice.objects.filter(menu=menu, student=student, slot=slot).delete()
    choices = Choice.objects.bulk_create([
        Choice(menu=menu, student=student, slot=slot, item=item, rank=rank, chosen_by=user)
        for rank, item in enumerate(items, start=1)
    ])
    audit_record(actor=user, action=SchedulingAction.CHOICES_SET, obj=student,
                 school=menu.school,
                 data={"menu": menu.pk, "slot": slot.pk, "ranked": [i.pk for i in items]})
    return choices


@transaction.atomic
def choices_set_many(*, menu: Menu, student: Student,
                     rankings: Sequence[tuple[ServiceSlot, Sequence[int]]],
                     user: User) -> list[Choice]:
    """A whole week's ranking at once (the choice page): every slot or none. Item ids are
    looked up on the menu; an id not on it is refused like a foreign item."""
    found = MenuItem.objects.filter(menu=menu).select_related("activity").in_bulk()
    choices = []
    for slot, item_ids in rankings:
        if any(i not in found for i in item_ids):
            raise PolicyViolation(_("所选活动不在本周该时段的菜单中。"), field="ranked")
        choices += choices_set(menu=menu, student=student, slot=slot,
                               items=[found[i] for i in item_ids], user=user)
    return choices
