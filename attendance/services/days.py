"""The end of the day (R8): late pickups escalated step by step, no child left on campus before
the day is closed, a principal reminded of a day left open; and the teachers' daily service
records (R9)."""

import datetime
import uuid

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify_many
from schools.audit import audit_record
from schools.errors import Conflict
from schools.formats import day_label, time_label
from schools.models import Homeroom, School, User
from schools.selectors import duty_managers

from ..events import AttendanceAction
from ..idempotency import Reply, claim, happened_at, remember
from ..models import ClassSession, DayClose, LatePickup, PickupAdult, ServiceRecord
from ..selectors import day_of, waiting_in
from . import alerts

# Minutes after the school's grace period at which each escalation step is due (R8: a guardian
# not there on time after the end).
STEPS = {1: 0, 2: 20, 3: 30}
# A day not closed this long after its last session ends alerts the principal.
CLOSE_REMINDER_AFTER = datetime.timedelta(hours=1)


@transaction.atomic
def day_close(*, school: School, day: datetime.date, user: User) -> DayClose:
    """Close the school's day: refused (409 not_handed_off, with the list) while any child
    present is not released. Closing twice returns the first close."""
    School.objects.select_for_update().filter(pk=school.pk).first()  # one close at a time
    if (closed := DayClose.objects.filter(school=school, date=day).first()) is not None:
        return closed
    left = day_of(school.pk, day).not_released
    if left:
        raise Conflict(
            _("还有 %(n)s 名学生未交接，不能确认日终。") % {"n": len(left)}, code="not_handed_off",
            extra={"students": [{"student": e.student.pk, "name": e.student.name,
                                 "session": s.pk, "class": s.temporary_class.name}
                                for s, e in left]})
    closed = DayClose.objects.create(school=school, date=day, closed_by=user)
    audit_record(actor=user, action=AttendanceAction.DAY_CLOSED, obj=closed, school=school,
                 data={"date": day.isoformat()})
    return closed


# A session is scanned from its end until its last step is due, plus this much: a beat that was
# down catches up when it returns. After that nothing is left to fire (every step of every
# child still waiting has fired); the day-close reminder and the day close itself take over.
CATCH_UP = datetime.timedelta(minutes=30)
# The longest grace a school may set (School.pickup_grace_minutes).
MAX_GRACE = datetime.timedelta(minutes=120)


def _due_sessions(now: datetime.datetime) -> list[tuple[ClassSession, float]]:
    """The sessions of today, in schools whose day is still open, that are in their
    escalation window, with how many minutes past end plus grace they are."""
    today = timezone.localdate(now)
    local = timezone.localtime(now)
    oldest = local - MAX_GRACE - datetime.timedelta(minutes=STEPS[3]) - CATCH_UP
    sessions = (ClassSession.objects.filter(date=today, end__lte=local.time())
                .exclude(school_id__in=DayClose.objects.filter(date=today).values("school_id"))
                .select_related("school", "temporary_class__menu__term",
                                "temporary_class__slot", "slot"))
    if oldest.date() == today:
        sessions = sessions.filter(end__gte=oldest.time())
    due = []
    for session in sessions:
        late = ((now - session.ends_at()).total_seconds() / 60
                - session.school.pickup_grace_minutes)
        if 0 <= late <= STEPS[3] + CATCH_UP.total_seconds() / 60:
            due.append((session, late))
    return due


def late_pickups_scan(*, now: datetime.datetime | None = None) -> int:
    """Every minute (beat): a child present and not released after the session's end plus the
    school's grace minutes is a late pickup; the guardians are messaged, after 20 more minutes
    the other authorised adults and the homeroom teacher, after 30 the duty leader and the
    principal. Each step once (a unique row and the outbox key). Returns the steps fired."""
    now = now or timezone.now()
    fired = 0
    for session, late in _due_sessions(now):
        due = [step for step, after in STEPS.items() if late >= after]
        waiting = waiting_in(session)
        if not waiting:
            continue
        done = set(LatePickup.objects.filter(session=session).values_list("step", "student_id"))
        for step in due:
            new = [c for c in waiting if (step, c.pk) not in done]
            if new:
                fired += _escalate(session, new, step, now)
    return fired


def _escalate(session: ClassSession, new, step: int, now: datetime.datetime) -> int:
    with transaction.atomic():
        LatePickup.objects.bulk_create(
            [LatePickup(session=session, student=c, step=step, at=now) for c in new],
            ignore_conflicts=True)
        end = time_label(session.end)
        if step == 1:
            alerts.guardians(
                students=new, session=session, purpose="attendance.late_pickup", key=session.pk,
                subject=lambda c: _("请尽快接 %(name)s") % {"name": c.name},
                body=lambda c: _("课后服务已于 %(end)s 结束，%(name)s 还在学校（%(cls)s）等您。"
                                 "如需他人代接，请在手机上添加当日委托。") % {
                    "end": end, "name": c.name, "cls": session.temporary_class.name})
        elif step == 2:
            _step_two(session, new, end)
        else:
            names = "、".join(c.name for c in new)
            alerts.managers(
                session=session, purpose="attendance.late_pickup_3",
                key=f"{session.pk}:{','.join(str(c.pk) for c in new)}",
                subject=_("%(n)s 名学生超时未被接走") % {"n": len(new)},
                body=_("%(cls)s 于 %(end)s 结束，%(names)s 超过 %(m)s 分钟仍未被接走，"
                       "已通知家长和授权接送人。请值班领导跟进。") % {
                    "cls": session.temporary_class.name, "end": end, "names": names,
                    "m": session.school.pickup_grace_minutes + STEPS[3]})
    return len(new)


def _step_two(session: ClassSession, children, end: str) -> None:
    """The other authorised adults (by SMS: they have no account) and the homeroom teacher."""
    today = session.date
    items = []
    for adult in PickupAdult.objects.filter(student__in=children, revoked_at__isnull=True
                                            ).select_related("student"):
        if adult.valid_on(today):
            items.append(dict(
                recipient=None, to_name=adult.name, to_phone=adult.phone,
                purpose="attendance.late_pickup_2", school=session.school_id, urgency="alert",
                dedupe_key=f"attendance.late_pickup_2:{session.pk}:{adult.student_id}:a{adult.pk}",
                subject=_("请协助接孩子"),
                body=_("%(name)s 的课后服务已于 %(end)s 结束，家长尚未接走。您是授权接送人，"
                       "如方便请到校接孩子。") % {"name": adult.student.name, "end": end}))
    heads = {h.pk: h.head_teacher for h in Homeroom.objects.filter(
        pk__in={c.homeroom_id for c in children}).select_related("head_teacher__user")}
    for child in children:
        head = heads.get(child.homeroom_id)
        if head is not None and head.user_id:
            items.append(dict(
                recipient=head.user, purpose="attendance.late_pickup_2",
                school=session.school_id, urgency="alert", channels=alerts.BY_PHONE,
                dedupe_key=f"attendance.late_pickup_2:{session.pk}:{child.pk}:{head.user_id}",
                subject=_("%(name)s 超时未被接走") % {"name": child.name},
                body=_("您班的 %(name)s 在 %(cls)s（%(end)s 结束）超过 20 分钟仍未被接走，"
                       "请协助联系家长。") % {"name": child.name,
                                       "cls": session.temporary_class.name, "end": end}))
    notify_many(items)


def day_close_reminders(*, now: datetime.datetime | None = None) -> int:
    """A day not closed an hour after its last session ends alerts the principal (and the duty
    leader and office), once."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = (timezone.localtime(now) - CLOSE_REMINDER_AFTER).time()
    if timezone.localtime(now).date() != (timezone.localtime(now) - CLOSE_REMINDER_AFTER).date():
        cutoff = datetime.time(23, 59, 59)
    sent = 0
    closed = DayClose.objects.filter(date=today).values("school_id")
    open_days = (ClassSession.objects.filter(date=today).exclude(school_id__in=closed)
                 .values("school_id").annotate(last=Max("end")).filter(last__lte=cutoff))
    for row in open_days:
        school_id, last = row["school_id"], row["last"]
        sent += notify_many([
            dict(recipient=m.user, purpose="attendance.day_open", school=school_id,
                 urgency="alert", channels=alerts.BY_PHONE,
                 dedupe_key=f"attendance.day_open:{school_id}:{today}:{m.user_id}",
                 subject=_("今天的课后服务还没有日终确认"),
                 body=_("%(day)s 最后一个课次 %(end)s 已结束超过一小时，请确认所有学生都已交接，"
                        "然后进行日终确认。") % {"day": day_label(today), "end": time_label(last)},
                 url=reverse("attendance:day", args=[today.isoformat()]))
            for m in duty_managers([school_id])])
    return sent


@transaction.atomic
def service_record_write(*, session: ClassSession, user: User, content: str, notes: str,
                         client_id: uuid.UUID,
                         occurred_at: datetime.datetime | None = None) -> Reply:
    """The serving teacher's daily record (R9). A later one supersedes, the earlier stays."""
    body = {"session": session.pk, "content": content, "notes": notes}
    if (replay := claim(kind="record", client_id=client_id, user=user, body=body)):
        return replay
    record = ServiceRecord.objects.create(
        session=session, content=content, notes=notes, written_by=user, client_id=client_id,
        occurred_at=happened_at(occurred_at, timezone.now()))
    audit_record(actor=user, action=AttendanceAction.RECORD_WRITTEN, obj=record,
                 school=session.school, data={"session": session.pk})
    return remember(client_id, Reply(201, {
        "id": record.pk, "session": session.pk, "content": record.content,
        "notes": record.notes, "occurred_at": record.occurred_at.isoformat()}))
