"""The weekly menu: a draft per week, its items, the policy checks of publication (R5, R6,
R7) and publication with its notice to guardians."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import Conflict, InvalidTransition, PolicyViolation
from schools.formats import time_label, weekday_name
from schools.models import School, ServiceSlot, Staff, User
from schools.selectors import service_days, term_of_week

from ..events import SchedulingAction
from ..models import Activity, Menu, MenuItem
from . import notices
from .activities import check_grades, check_teacher

# R5: at least 2 hours of service on every service weekday ("5+2").
MIN_DAILY_MINUTES = 120
# R5: evening self-study (middle schools) ends no later than 20:30.
LATEST_EVENING_END = datetime.time(20, 30)
# R6: grades 1–2 have no written homework.
NO_WRITTEN_HOMEWORK_GRADES = {1, 2}
Status = Menu.Status


def default_deadline(week: datetime.date) -> datetime.datetime:
    """The Friday before the week, 20:00 local time."""
    friday = week - datetime.timedelta(days=3)
    return timezone.make_aware(datetime.datetime.combine(friday, datetime.time(20, 0)))


@transaction.atomic
def menu_create(*, school: School, week: datetime.date, user: User,
                choice_deadline: datetime.datetime | None = None,
                copy_previous: bool = False) -> Menu:
    """A draft menu for the week of `week` (a Monday); with `copy_previous`, the items of the
    school's latest earlier menu, placed in the same weekday and slot of this week's term."""
    if week.isoweekday() != 1:
        raise PolicyViolation(_("菜单周须从周一开始。"), field="week")
    term = term_of_week(school.pk, week)
    if term is None:
        raise PolicyViolation(_("该周不在任何学期内。"), field="week")
    if school.menus.filter(week=week).exists():
        raise Conflict(_("该周已有菜单。"), code="menu_exists")
    deadline = choice_deadline or default_deadline(week)
    if deadline.date() >= week + datetime.timedelta(days=7):
        raise PolicyViolation(_("选课截止时间须在该周结束之前。"), field="choice_deadline")
    menu = Menu.objects.create(school=school, term=term, week=week, choice_deadline=deadline,
                               created_by=user)
    copied = 0
    if copy_previous:
        source = school.menus.filter(week__lt=week).exclude(pk=menu.pk).order_by("-week").first()
        if source is not None:
            copied = _copy_items(source, menu)
    audit_record(actor=user, action=SchedulingAction.MENU_CREATED, obj=menu, school=school,
                 data={"week": week.isoformat(), "copied_items": copied})
    return menu


def _copy_items(source: Menu, target: Menu) -> int:
    slots = {(s.kind, s.weekday): s for s in target.term.slots.all()}
    items = []
    for item in source.items.select_related("slot", "activity"):
        slot = slots.get((item.slot.kind, item.slot.weekday))
        if slot is None or not item.activity.active:
            continue
        items.append(MenuItem(menu=target, activity=item.activity, slot=slot,
                              teacher_id=item.teacher_id, room=item.room, grades=item.grades,
                              capacity=item.capacity, start=item.start, end=item.end))
    MenuItem.objects.bulk_create(items)
    return len(items)


def _editable(menu: Menu) -> Menu:
    menu = Menu.objects.select_for_update().get(pk=menu.pk)
    if menu.status == Status.ALLOCATED:
        raise InvalidTransition(menu.get_status_display(), _("修改菜单"),
                                _("菜单已分班，不能再修改。"))
    return menu


@transaction.atomic
def menu_item_add(*, menu: Menu, user: User, activity: Activity, slot: ServiceSlot,
                  teacher: Staff | None = None, room: str | None = None, grades=None,
                  capacity: int | None = None, start: datetime.time | None = None,
                  end: datetime.time | None = None) -> MenuItem:
    """Place an activity in a slot. Its teacher, room, grades and capacity default to the
    activity's, its times to the slot's; the policy checks run when the menu is published.
    Editing a published menu takes it back to draft: it must be published again."""
    menu = _editable(menu)
    school = menu.school
    if activity.school_id != school.pk:
        raise PolicyViolation(_("该活动不属于本校。"), field="activity")
    if slot.term_id != menu.term_id:
        raise PolicyViolation(_("该时段不属于本周所在学期。"), field="slot")
    teacher = teacher if teacher is not None else activity.teacher
    check_teacher(school, teacher)
    start, end = start or slot.start, end or slot.end
    if end <= start:
        raise PolicyViolation(_("结束时间须晚于开始时间。"), field="end")
    capacity = capacity if capacity is not None else activity.capacity
    if capacity < 1:
        raise PolicyViolation(_("人数上限须大于 0。"), field="capacity")
    if menu.items.filter(activity=activity, slot=slot).exists():
        raise Conflict(_("该活动已在此时段。"), code="item_exists")
    item = MenuItem.objects.create(
        menu=menu, activity=activity, slot=slot, teacher=teacher,
        room=activity.room if room is None else room,
        grades=check_grades(school, grades if grades is not None else activity.grades),
        capacity=capacity, start=start, end=end)
    _back_to_draft(menu)
    audit_record(actor=user, action=SchedulingAction.MENU_ITEM_ADDED, obj=menu, school=school,
                 data={"item": item.pk, "activity": activity.name, "slot": slot.pk})
    return item


@transaction.atomic
def menu_items_add(*, menu: Menu, user: User, activity: Activity, slots: Sequence[ServiceSlot],
                   **options) -> list[MenuItem]:
    """Place one activity in several slots at once (the menu page): all of them or none."""
    if not slots:
        raise PolicyViolation(_("请至少选择一个时段。"), field="slots")
    return [menu_item_add(menu=menu, user=user, activity=activity, slot=slot, **options)
            for slot in slots]


@transaction.atomic
def menu_item_remove(*, item: MenuItem, user: User) -> None:
    menu = _editable(item.menu)
    data = {"item": item.pk, "activity": item.activity.name, "slot": item.slot_id,
            "choices_removed": item.choices.count()}
    item.delete()
    _back_to_draft(menu)
    audit_record(actor=user, action=SchedulingAction.MENU_ITEM_REMOVED, obj=menu,
                 school=menu.school, data=data)


def _back_to_draft(menu: Menu) -> None:
    if menu.status == Status.PUBLISHED:
        menu.status = Status.DRAFT
        menu.save(update_fields=["status"])


@dataclass
class Finding:
    code: str
    message: str
    items: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "items": self.items}


def _overlap(a: MenuItem, b: MenuItem) -> bool:
    return a.slot.weekday == b.slot.weekday and a.start < b.end and b.start < a.end


def menu_check(menu: Menu) -> tuple[list[Finding], list[Finding]]:
    """The policy checks of publication: (problems that refuse it, warnings to acknowledge)."""
    school = menu.school
    items = list(menu.items.select_related("activity", "slot", "teacher"))
    problems: list[Finding] = []
    warnings: list[Finding] = []
    if not items:
        problems.append(Finding("empty", _("菜单中还没有任何活动。")))
    for item in items:
        label = f"{weekday_name(item.slot.weekday)} {item.activity.name}"
        day = menu.day_of(item.slot.weekday)
        latest = (LATEST_EVENING_END if item.slot.kind == ServiceSlot.Kind.EVENING
                  else school.latest_end_on(day))
        if item.end > latest:
            problems.append(Finding("end_time", _(
                "%(item)s 结束时间 %(end)s 晚于本校当季最晚结束时间 %(latest)s。") % {
                "item": label, "end": time_label(item.end),
                "latest": time_label(latest)}, [item.pk]))
        if item.capacity > school.temp_class_cap:
            problems.append(Finding("capacity", _(
                "%(item)s 人数上限 %(capacity)s 超过本校临时班上限 %(cap)s 人。") % {
                "item": label, "capacity": item.capacity, "cap": school.temp_class_cap},
                [item.pk]))
        if extra := sorted(set(item.grades) - set(item.activity.grades)):
            problems.append(Finding("grade", _(
                "%(item)s 面向了不适合的年级：%(grades)s。") % {
                "item": label, "grades": "、".join(f"{g}年级" for g in extra)}, [item.pk]))
        if (item.activity.category == Activity.Category.HOMEWORK
                and set(item.grades) & NO_WRITTEN_HOMEWORK_GRADES):
            warnings.append(Finding("homework_lower_grades", _(
                "%(item)s 为作业辅导，面向一、二年级：一、二年级不布置书面家庭作业，"
                "请以阅读、游戏化活动为主。") % {"item": label}, [item.pk]))
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if not _overlap(a, b):
                continue
            day = weekday_name(a.slot.weekday)
            if a.teacher_id and a.teacher_id == b.teacher_id:
                problems.append(Finding("teacher_double_booked", _(
                    "%(teacher)s 在%(day)s同一时间安排了两项活动：%(a)s、%(b)s。") % {
                    "teacher": a.teacher.name, "day": day, "a": a.activity.name,
                    "b": b.activity.name}, [a.pk, b.pk]))
            if a.room and a.room == b.room:
                problems.append(Finding("room_double_booked", _(
                    "场地“%(room)s”在%(day)s同一时间安排了两项活动：%(a)s、%(b)s。") % {
                    "room": a.room, "day": day, "a": a.activity.name, "b": b.activity.name},
                    [a.pk, b.pk]))
    # The weekdays whose timetable runs this week, from the term's calendar (holidays and
    # excluded weekdays drop out).
    for weekday in sorted({d.weekday for d in service_days(menu.term, menu.week,
                                                              menu.week_end)}):
        minutes = _covered_minutes([(i.start, i.end) for i in items if i.slot.weekday == weekday])
        if minutes < MIN_DAILY_MINUTES:
            warnings.append(Finding("short_day", _(
                "%(day)s 服务时长 %(minutes)s 分钟，不足 2 小时（“5+2”要求每天至少 2 小时）。") % {
                "day": weekday_name(weekday), "minutes": minutes}))
    return problems, warnings


def _covered_minutes(intervals: list[tuple[datetime.time, datetime.time]]) -> int:
    def minutes(t: datetime.time) -> int:
        return t.hour * 60 + t.minute

    total, reach = 0, -1
    for start, end in sorted((minutes(s), minutes(e)) for s, e in intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


@transaction.atomic
def menu_publish(*, menu: Menu, user: User, acknowledge_warnings: bool = False) -> Menu:
    """Publish a draft after its policy checks: any problem refuses it (409 with the list);
    warnings must be acknowledged. Each publication is a new version; guardians are told."""
    menu = Menu.objects.select_for_update().select_related("school", "term").get(pk=menu.pk)
    if menu.status != Status.DRAFT:
        raise InvalidTransition(menu.get_status_display(), _("发布"))
    problems, warnings = menu_check(menu)
    report = {"problems": [p.as_dict() for p in problems],
              "warnings": [w.as_dict() for w in warnings]}
    if problems:
        raise Conflict(_("菜单未通过发布检查，共 %d 个问题。") % len(problems),
                       code="policy_check_failed", extra=report)
    if warnings and not acknowledge_warnings:
        raise Conflict(_("请确认 %d 条提示后再发布。") % len(warnings),
                       code="warnings_unacknowledged", extra=report)
    menu.status = Status.PUBLISHED
    menu.version += 1
    menu.published_at = timezone.now()
    menu.published_by = user
    menu.acknowledged_warnings = report["warnings"]
    menu.save(update_fields=["status", "version", "published_at", "published_by",
                             "acknowledged_warnings"])
    audit_record(actor=user, action=SchedulingAction.MENU_PUBLISHED, obj=menu, school=menu.school,
                 data={"version": menu.version, "items": menu.items.count(),
                       "warnings_acknowledged": report["warnings"]})
    notices.menu_published(menu)
    return menu
