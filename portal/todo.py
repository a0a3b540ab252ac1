"""Each role's to-do list for the home page: what to do next, how many, by when, and the link
that does it. Everything is read through the stages' published selectors."""

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from enrollment.selectors import (
    applications_to_decide,
    applications_to_review,
    child_enrollment,
    plan_current,
    terms_managed_by,
    waiting_by_school,
    withdrawals_to_decide,
)
from notifications.selectors import failed_deliveries
from oversight.indicators import participation
from scheduling.selectors import (
    WeekTask,
    child_week,
    classes_of_teacher_on,
    open_choices,
    week_tasks,
)
from schools.formats import day_label, moment_label, time_label, weekday_name
from schools.models import Homeroom, School, Student, User
from schools.selectors import current_term, monday_of


class Tone:
    TODO = "todo"  # the user has to act
    WAIT = "wait"  # someone else acts; nothing to do but look
    DONE = "done"


@dataclass(frozen=True)
class Step:
    text: str | Promise
    url: str
    tone: str = Tone.TODO
    count: int | None = None
    due: datetime.datetime | datetime.date | None = None

    @property
    def due_label(self) -> str:
        """周五 11月27日 20:00, or 11月27日 for a last day."""
        if isinstance(self.due, datetime.datetime):
            weekday = timezone.localtime(self.due).isoweekday()
            return f"{weekday_name(weekday)} {moment_label(self.due)}"
        return day_label(self.due) if self.due else ""


# --- guardians -----------------------------------------------------------------------------


@dataclass
class ChildCard:
    child: Student
    status: str | Promise
    tone: str
    steps: list[Step] = field(default_factory=list)
    today: list = field(default_factory=list)  # the child's WeekRows of today
    enrolled: bool = False


def _application_status(state, today: datetime.date) -> tuple:
    """The status line and next step of a child who is not in service."""
    application, plan, term, child = state.application, state.plan, state.term, state.child
    if application is not None:
        url = reverse("enrollment:application", args=[application.pk])
        match application.status:
            case "submitted":
                return _("报名已提交，等待班主任审核"), Tone.WAIT, [
                    Step(_("查看报名"), url, Tone.WAIT)]
            case "class_approved":
                return _("班主任已审核，等待学校审定"), Tone.WAIT, [
                    Step(_("查看报名"), url, Tone.WAIT)]
            case "returned":
                return _("报名被退回"), Tone.TODO, [
                    Step(_("按退回理由修改后重新提交"),
                         reverse("enrollment:resubmit", args=[application.pk]),
                         due=plan.applications_close if plan else None)]
            case "rejected" if not state.window_open(today):
                return _("报名未通过"), Tone.WAIT, [Step(_("查看理由"), url, Tone.WAIT)]
    if state.window_open(today):
        label = _("报名未通过，可重新报名") if application else _("尚未报名")
        return label, Tone.TODO, [
            Step(_("报名课后服务并签署安全责任书"),
                 reverse("enrollment:apply", args=[term.pk, child.pk]),
                 due=plan.applications_close),
            Step(_("阅读服务方案"), reverse("enrollment:plan", args=[term.pk]), Tone.WAIT)]
    plan_url = reverse("enrollment:plan", args=[term.pk])
    if plan.applications_open and today < plan.applications_open:
        return (_("报名将于 %(day)s 开始") % {"day": day_label(plan.applications_open)},
                Tone.WAIT, [Step(_("阅读服务方案"), plan_url, Tone.WAIT)])
    return _("本学期报名已截止"), Tone.WAIT, [Step(_("阅读服务方案"), plan_url, Tone.WAIT)]


def child_card(child: Student, today: datetime.date, now: datetime.datetime) -> ChildCard:
    state = child_enrollment(child, today)
    if state.term is None:
        return ChildCard(child, _("学校尚未设置本学期"), Tone.WAIT)
    if state.plan is None:
        return ChildCard(child, _("本学期服务方案尚未公示"), Tone.WAIT)
    if not state.enrolled:
        status, tone, steps = _application_status(state, today)
        return ChildCard(child, status, tone, steps)
    card = ChildCard(child, _("在读"), Tone.DONE, enrolled=True)
    for choice in open_choices(child, now):
        url = reverse("scheduling:choose", args=[choice.menu.pk, child.pk])
        week = day_label(choice.menu.week)
        if choice.done:
            card.steps.append(Step(_("%(week)s 起一周已选课，截止前可修改") % {"week": week},
                                   url, Tone.DONE, due=choice.menu.choice_deadline))
        else:
            card.steps.append(Step(
                _("为 %(week)s 起一周选课：%(n)s 个时段未填") % {
                    "week": week, "n": choice.enrolled - choice.ranked},
                url, due=choice.menu.choice_deadline))
    if state.withdrawal is not None:
        day = day_label(state.withdrawal.effective_date)
        card.steps.append(Step(
            _("退出申请待学校审批（拟 %(day)s 起）") % {"day": day},
            reverse("enrollment:overview") + f"#student-{child.pk}", Tone.WAIT))
    _menu, rows = child_week(child, monday_of(today))
    card.today = [row for row in rows if row.day == today]
    card.steps.append(Step(_("请假"), reverse("enrollment:leave", args=[state.enrolment.pk]),
                           Tone.WAIT))
    return card


# --- staff ---------------------------------------------------------------------------------


def homeroom_steps(user: User, homerooms: list[Homeroom]) -> list[Step]:
    queue = applications_to_review(user).filter(status="submitted")
    waiting = queue.count()
    steps = [Step(_("审核本班的课后服务报名"), reverse("enrollment:review-queue"),
                  Tone.TODO if waiting else Tone.DONE, count=waiting)]
    for homeroom in homerooms:
        steps.append(Step(_("%(class)s 学生名单") % {"class": homeroom},
                          reverse("schools:homeroom-detail", args=[homeroom.pk]), Tone.WAIT))
    return steps


_WEEK_TASK_TEXT = {
    WeekTask.Kind.CREATE: _("新建 %(week)s 起一周的菜单"),
    WeekTask.Kind.PUBLISH: _("发布 %(week)s 起一周的菜单"),
    WeekTask.Kind.CHOOSING: _("%(week)s 起一周选课中：已填报 %(count)s / %(of)s 人"),
    WeekTask.Kind.ALLOCATE: _("选课已截止：为 %(week)s 起一周分班"),
    WeekTask.Kind.SEAT: _("%(week)s 起一周有新入读的学生待安排班级"),
}


def _week_step(task: WeekTask) -> Step:
    text = _WEEK_TASK_TEXT[task.kind] % {"week": day_label(task.week), "count": task.count,
                                         "of": task.of}
    if task.menu is None:
        return Step(text, reverse("scheduling:menus"))
    if task.kind == WeekTask.Kind.SEAT:
        return Step(text, reverse("scheduling:classes", args=[task.menu.pk]) + "#waiting",
                    count=task.count)
    if task.kind == WeekTask.Kind.CHOOSING:
        return Step(text, task.menu.get_absolute_url(), Tone.WAIT,
                    due=task.menu.choice_deadline)
    return Step(text, task.menu.get_absolute_url())


def manager_steps(user: User, school: School, today: datetime.date,
                  now: datetime.datetime) -> list[Step]:
    """The principal's and the office's: applications, withdrawals, the plan, the menus."""
    steps = []
    to_decide = applications_to_decide(user).filter(term__school=school,
                                                    status="class_approved").count()
    steps.append(Step(_("审定已通过班级审核的报名"), reverse("enrollment:decide-queue"),
                      Tone.TODO if to_decide else Tone.DONE, count=to_decide))
    withdrawals = withdrawals_to_decide(user).filter(enrolment__term__school=school,
                                                     status="requested").count()
    if withdrawals:
        steps.append(Step(_("审批退出申请"), reverse("enrollment:decide-queue") + "#withdrawals",
                          count=withdrawals))
    term = current_term(school.pk, today, or_next=True)
    if term is not None and terms_managed_by(user).filter(pk=term.pk).exists():
        plan = plan_current(term)
        if plan is None:
            steps.append(Step(_("公示 %(term)s 的服务方案") % {"term": term.name},
                              reverse("enrollment:plan-edit", args=[term.pk])))
        elif plan.applications_close and today <= plan.applications_close:
            steps.append(Step(_("报名进行中"), reverse("enrollment:plan", args=[term.pk]),
                              Tone.WAIT, due=plan.applications_close))
    steps.extend(_week_step(task) for task in week_tasks(school.pk, now))
    failed = failed_deliveries([school.pk], since=now - datetime.timedelta(days=7)).count()
    if failed:
        steps.append(Step(_("有通知未能送达家长，请电话联系"),
                          reverse("notifications:deliveries") + "#failed", count=failed))
    return steps


def teacher_steps(user: User, today: datetime.date) -> list[Step]:
    """A serving teacher's classes of the day, in the order they meet."""
    steps = []
    for c in classes_of_teacher_on(user, today):
        cls = c.temporary_class
        text = _("%(start)s–%(end)s %(name)s · %(room)s · %(n)s 人") % {
            "start": time_label(cls.start), "end": time_label(cls.end),
            "name": cls.name, "room": cls.room or _("场地待定"), "n": c.children}
        if c.on_leave:
            text += " · " + _("%(n)s 人请假") % {"n": c.on_leave}
        steps.append(Step(text, cls.get_absolute_url()))
    return steps


@dataclass(frozen=True)
class SchoolFigures:
    school: School
    students: int
    in_service: int
    review: int
    decide: int
    withdrawals: int

    @property
    def participation(self) -> float | None:
        """Children in service as a share of the school's pupils (R14: coverage)."""
        return self.in_service / self.students if self.students else None


def school_figures(schools: list, today: datetime.date) -> list[SchoolFigures]:
    """Each school's participation as the district's indicators count it (one definition:
    the home page, the dashboard, the API and the workbook agree) and what waits there."""
    figures = {f.school.pk: f for f in participation(schools, today).schools}
    waiting = waiting_by_school([s.pk for s in schools])
    return [SchoolFigures(s, figures[s.pk].students, figures[s.pk].students_served,
                          **waiting[s.pk]) for s in schools]


def now_and_today() -> tuple[datetime.datetime, datetime.date]:
    now = timezone.now()
    return now, timezone.localdate(now)
