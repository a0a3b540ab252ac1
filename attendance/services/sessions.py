"""Class sessions: one per temporary class and date its slot runs, created ahead by a job (on
an allocation's commit, and a daily scan), never by hand; the principal sets a substitute."""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from scheduling.selectors import classes_of_weeks
from schools.audit import audit_record
from schools.errors import PolicyViolation
from schools.models import Staff, User
from schools.selectors import monday_of, service_days

from ..events import AttendanceAction
from ..models import ClassSession


def sessions_for_classes(classes: list) -> int:
    """Create the sessions of these temporary classes (each meets on the dates of its week whose
    timetable runs its slot's weekday). Idempotent. Returns how many were new."""
    rows, runs = [], {}
    for cls in classes:
        menu = cls.menu
        key = (menu.term_id, menu.week)
        if key not in runs:
            runs[key] = service_days(menu.term, menu.week, menu.week + datetime.timedelta(days=6))
        for day in runs[key]:
            if day.weekday == cls.slot.weekday:
                rows.append(ClassSession(
                    school_id=menu.school_id, term_id=menu.term_id, temporary_class=cls,
                    slot_id=cls.slot_id, date=day.date, start=cls.start, end=cls.end,
                    teacher_id=cls.head_teacher_id))
    if not rows:
        return 0
    before = ClassSession.objects.filter(temporary_class__in=[r.temporary_class for r in rows]
                                         ).count()
    ClassSession.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    after = ClassSession.objects.filter(temporary_class__in=[r.temporary_class for r in rows]
                                        ).count()
    return after - before


def on_classes_created(sender, *, menu, classes, **kwargs) -> None:
    for cls in classes:
        cls.menu = menu
    sessions_for_classes(list(classes))


def sessions_ensure(*, today: datetime.date, weeks: int = 2) -> int:
    """The daily scan: every allocated class of this week and the next has its sessions
    (a class created while this stage was not listening, a make-up day added later)."""
    start = monday_of(today)
    last = start + datetime.timedelta(weeks=weeks - 1)  # classes_of_weeks takes their Mondays
    return sessions_for_classes(list(classes_of_weeks(start, last)))


@transaction.atomic
def session_set_teacher(*, session: ClassSession, teacher: Staff | int | None, user: User,
                        reason: str = "") -> ClassSession:
    """The principal names who serves this session (a substitute when not the head teacher):
    R9's monthly attendance and teacher pay read it. `teacher`: the staff member or their id
    as a form or the API sent it."""
    if not isinstance(teacher, Staff):
        teacher = Staff.objects.filter(school_id=session.school_id, pk=teacher).first()
    if teacher is None or teacher.school_id != session.school_id or not teacher.active:
        raise PolicyViolation(_("请选择本校在岗的教职工。"), field="teacher")
    session = ClassSession.objects.select_for_update().get(pk=session.pk)
    session.teacher = teacher
    session.substitute = teacher.pk != session.temporary_class.head_teacher_id
    session.save(update_fields=["teacher", "substitute"])
    audit_record(actor=user, action=AttendanceAction.SESSION_TEACHER_SET, obj=session,
                 school=session.school, data={"teacher": teacher.pk, "reason": reason})
    return session
