"""The scheduling stage's notices, through the outbox: a menu published, the week's
placements made, a child's placement changed."""

from collections import defaultdict

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify_many
from schools.formats import day_label, moment_label
from schools.models import GuardianStudent, Staff, User
from schools.selectors import guardian_users_of, school_managers

from .. import selectors
from ..models import Menu, Placement, TemporaryClass


def _class_line(cls: TemporaryClass) -> str:
    return f"{cls.name}（{cls.room or _('场地待定')}）"


def _student_week_url(student_id: int, week) -> str:
    return f"{reverse('scheduling:student-week', args=[student_id])}?week={week}"


def menu_published(menu: Menu) -> None:
    """The guardians of the children enrolled that week: the menu is out, choose by the
    deadline."""
    deadline = moment_label(menu.choice_deadline)
    notify_many([
        dict(recipient=guardian, purpose="scheduling.menu_published", school=menu.school_id,
             dedupe_key=f"scheduling.menu_published:{menu.pk}:{menu.version}:{guardian.pk}",
             subject=_("%(week)s 起一周课后服务菜单已发布") % {
                 "week": day_label(menu.week)},
             body=_("请在 %(deadline)s 前为孩子选择每个时段的活动（最多 %(n)s 个志愿）。") % {
                 "deadline": deadline, "n": menu.school.choices_per_slot},
             url=menu.get_absolute_url(), payload={"menu": menu.pk, "version": menu.version})
        for guardian in selectors.guardians_of_enrolled(menu)
    ])


def placements_made(menu: Menu, classes: list[TemporaryClass]) -> None:
    """One notice per guardian and child with the child's week, one per head teacher."""
    rows = (Placement.objects.filter(menu=menu)
            .select_related("temporary_class__slot", "student")
            .order_by("student_id", "slot__weekday", "slot__start"))
    week_of: dict[int, list[str]] = defaultdict(list)
    names = {}
    for p in rows:
        week_of[p.student_id].append(_class_line(p.temporary_class))
        names[p.student_id] = p.student.name
    week = day_label(menu.week)
    items = [dict(recipient=guardian, purpose="scheduling.placement", school=menu.school_id,
                  dedupe_key=f"scheduling.placement:{menu.pk}:{student_id}:{guardian.pk}",
                  subject=_("%(student)s %(week)s 起一周分班结果") % {
                      "student": names[student_id], "week": week},
                  body="\n".join(week_of[student_id]),
                  url=_student_week_url(student_id, menu.week),
                  payload={"menu": menu.pk, "student": student_id})
             for student_id, guardians in guardian_users_of(week_of).items()
             for guardian in guardians]
    heads = defaultdict(list)
    for c in classes:
        if c.head_teacher_id:
            heads[c.head_teacher_id].append(c)
    teacher_users = dict(Staff.objects.filter(pk__in=heads, user__isnull=False)
                         .values_list("pk", "user_id"))
    users = User.objects.in_bulk(teacher_users.values())
    for staff_id, user_id in teacher_users.items():
        items.append(dict(
            recipient=users[user_id], purpose="scheduling.class_lists", school=menu.school_id,
            dedupe_key=f"scheduling.class_lists:{menu.pk}:{user_id}",
            subject=_("%(week)s 起一周您带的临时班名单") % {"week": week},
            body="\n".join(c.name for c in heads[staff_id]),
            url=f"{reverse('scheduling:teacher-week')}?week={menu.week}",
            payload={"menu": menu.pk}))
    notify_many(items)


def placement_changed(placement: Placement, action: str) -> None:
    cls = placement.temporary_class
    notify_many([
        dict(recipient=link.guardian.user, purpose="scheduling.placement_changed",
             school=cls.menu.school_id,
             dedupe_key=f"scheduling.placement_changed:{placement.pk}:{cls.pk}:{action}:"
                        f"{link.guardian.user_id}:{timezone.now().timestamp()}",
             subject=_("%(student)s 的临时班有调整") % {"student": placement.student.name},
             body=_class_line(cls),
             url=_student_week_url(placement.student_id, cls.menu.week),
             payload={"placement": placement.pk, "class": cls.pk})
        for link in GuardianStudent.objects.filter(student=placement.student)
        .select_related("guardian__user")
    ])


def placements_joined(placed: list[Placement]) -> None:
    """The guardians of children seated after the allocation: where they go, per week."""
    if not placed:
        return
    rows = (Placement.objects.filter(pk__in=[p.pk for p in placed])
            .select_related("temporary_class", "student", "menu")
            .order_by("student_id", "menu__week", "slot__weekday", "slot__start"))
    by_child: dict[tuple[int, Menu], list[Placement]] = defaultdict(list)
    for p in rows:
        by_child[(p.student_id, p.menu)].append(p)
    guardians = guardian_users_of({student_id for student_id, _menu in by_child})
    notify_many([
        dict(recipient=guardian, purpose="scheduling.joined", school=menu.school_id,
             dedupe_key=f"scheduling.joined:{menu.pk}:{student_id}:{guardian.pk}:{ps[-1].pk}",
             subject=_("%(student)s 已安排到托管自习班") % {"student": ps[0].student.name},
             body="\n".join(_class_line(p.temporary_class) for p in ps),
             url=_student_week_url(student_id, menu.week),
             payload={"menu": menu.pk, "student": student_id})
        for (student_id, menu), ps in by_child.items() for guardian in guardians[student_id]
    ])


def joiners_waiting(waiting: dict[Menu, int]) -> None:
    """The school's principal and office: children who joined after the allocation found no
    room in their grade's study halls; the classes page seats them in one click."""
    managers = list(school_managers({menu.school_id for menu in waiting}))
    notify_many([
        dict(recipient=m.user, purpose="scheduling.joiners_waiting", school=menu.school_id,
             dedupe_key=f"scheduling.joiners_waiting:{menu.pk}:{m.user_id}:"
                        f"{timezone.now().timestamp()}",
             subject=_("%(n)s 名分班后加入的学生暂无座位") % {"n": n},
             body=_("%(week)s 起一周：本年级托管自习班已满。请在临时班页面一键新开托管自习班。")
             % {"week": day_label(menu.week)},
             url=f"{reverse('scheduling:classes', args=[menu.pk])}#waiting",
             payload={"menu": menu.pk, "waiting": n})
        for menu, n in waiting.items() for m in managers if m.school_id == menu.school_id
    ] if waiting else [])


def on_leave_reported(sender, *, leave, user, **kwargs) -> None:
    """Receiver of `enrollment.events.leave_reported`: leave reported on the day after the
    school's cut-off goes at once to the head teacher of the class the child sits in then."""
    if not leave.late:
        return
    seats = selectors.placements_on(leave.enrolment.term, leave.date, slot=leave.slot_id,
                                    students=[leave.student_id]).select_related(
        "temporary_class__head_teacher__user")
    notify_many([
        dict(recipient=seat.temporary_class.head_teacher.user, purpose="scheduling.late_leave",
             school=leave.enrolment.term.school_id,
             dedupe_key=f"scheduling.late_leave:{leave.pk}:{seat.temporary_class_id}",
             subject=_("%(student)s 今天请假（截止后报告）") % {"student": leave.student.name},
             body=_("%(class)s：%(reason)s") % {"class": seat.temporary_class.name,
                                               "reason": leave.reason},
             url=seat.temporary_class.get_absolute_url(),
             payload={"leave": leave.pk, "class": seat.temporary_class_id})
        for seat in seats
        if seat.temporary_class.head_teacher and seat.temporary_class.head_teacher.user_id
    ])
