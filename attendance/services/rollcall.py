"""Roll call (R8: strict attendance) and incidents during care (R8: help first, tell the
guardian at once; "unwell during care" is one of the three attentions)."""

import datetime
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import Conflict, PolicyViolation
from schools.formats import day_label, moment_label, time_label
from schools.models import User

from ..events import AttendanceAction
from ..idempotency import ClientIdReused, Reply, claim, happened_at, remember
from ..models import ClassSession, Incident, Mark
from ..selectors import expected_child, expected_in
from . import alerts


@dataclass(frozen=True)
class RollCall:
    marks: list[Mark]  # one per mark sent, in order (a replayed one as first recorded)
    unexplained: list[int]  # children now absent without leave


@transaction.atomic
def roll_call(*, session: ClassSession, user: User, marks: list[dict]) -> RollCall:
    """Record a roll call: one mark per child, each with its tablet `client_id`. A mark whose
    id was recorded before is a replay and writes nothing (a different body under the same id
    is refused); a new mark for a child already marked is a correction. An absence without
    leave alerts the guardians at once, once per child and session. A fixed number of queries
    whatever the class size."""
    now = timezone.now()
    expected = {e.student.pk: e for e in expected_in(session)}
    seen = set()
    for i, mark in enumerate(marks):
        if mark["student"] not in expected:
            raise PolicyViolation(_("第 %(n)s 条：这名学生不在本课次的名单中。") % {"n": i + 1},
                                  field="marks")
        if mark["student"] in seen:
            raise PolicyViolation(_("第 %(n)s 条：同一名学生只能有一条记录。") % {"n": i + 1},
                                  field="marks")
        seen.add(mark["student"])
        if mark["status"] == Mark.Status.LEAVE and not expected[mark["student"]].leave:
            raise PolicyViolation(
                _("%(name)s 没有请假记录，不能标为请假；请标为缺勤。")
                % {"name": expected[mark["student"]].student.name}, field="marks")
    ids = [m["client_id"] for m in marks]
    known = {m.client_id: m for m in Mark.objects.filter(client_id__in=ids)}
    for m in marks:
        old = known.get(m["client_id"])
        if old is not None and (old.session_id, old.student_id, old.status) != (
                session.pk, m["student"], m["status"]):
            raise ClientIdReused(field="marks")
    new = [Mark(session=session, student_id=m["student"], status=m["status"],
                client_id=m["client_id"], occurred_at=happened_at(m.get("occurred_at"), now),
                marked_by=user, correction=expected[m["student"]].status not in (
                    None, Mark.Status.LEAVE))
           for m in marks if m["client_id"] not in known]
    Mark.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        if session.roll_called_at is None:
            ClassSession.objects.filter(pk=session.pk).update(roll_called_at=now)
        audit_record(actor=user, action=AttendanceAction.ROLL_CALLED, obj=session,
                     school=session.school,
                     data={"marks": {str(m.student_id): m.status for m in new},
                           "corrections": [m.student_id for m in new if m.correction]})
        absent = [expected[m.student_id].student for m in new
                  if m.status == Mark.Status.ABSENT and not expected[m.student_id].leave]
        _alert_absent(session, absent)
    status = {pk: e.status for pk, e in expected.items()} | {m.student_id: m.status
                                                             for m in new}
    recorded = {**known, **{m.client_id: m for m in new}}
    return RollCall([recorded[m["client_id"]] for m in marks],
                    sorted(pk for pk, st in status.items()
                           if st == Mark.Status.ABSENT and not expected[pk].leave))


def _alert_absent(session: ClassSession, children) -> None:
    if not children:
        return
    cls = session.temporary_class.name
    alerts.guardians(
        students=children, session=session, purpose="attendance.absent", key=session.pk,
        subject=lambda c: _("%(name)s 未到课后服务") % {"name": c.name},
        body=lambda c: _("%(name)s 今天（%(day)s）%(start)s 的课后服务（%(cls)s）点名缺勤，"
                         "且没有请假记录。如已接走或另有安排，请在手机上补报请假或联系老师。")
        % {"name": c.name, "day": day_label(session.date),
           "start": time_label(session.start), "cls": cls})


def _guardians_told_of_incident(session: ClassSession, incident: Incident) -> None:
    alerts.guardians(
        students=[incident.student], session=session, purpose="attendance.incident",
        key=incident.pk,
        subject=lambda c: _("%(name)s 在课后服务中：%(kind)s") % {
            "name": c.name, "kind": incident.get_kind_display()},
        body=lambda c: _("%(time)s，%(name)s（%(cls)s）：%(kind)s。%(note)s 请在手机上确认已知悉。")
        % {"time": moment_label(incident.occurred_at), "name": c.name,
           "cls": session.temporary_class.name, "kind": incident.get_kind_display(),
           "note": incident.note})


@transaction.atomic
def incident_report(*, session: ClassSession, user: User, student_id: int, kind: str,
                    note: str, client_id: uuid.UUID,
                    occurred_at: datetime.datetime | None = None) -> Reply:
    """Record an incident and tell the guardians at once."""
    body = {"session": session.pk, "student": student_id, "kind": kind, "note": note}
    if (replay := claim(kind="incident", client_id=client_id, user=user, body=body)):
        return replay
    student = expected_child(session, student_id)
    if student is None:
        raise PolicyViolation(_("这名学生不在本课次的名单中。"), field="student")
    incident = Incident.objects.create(
        session=session, student=student, kind=kind, note=note,
        client_id=client_id, occurred_at=happened_at(occurred_at, timezone.now()), reported_by=user)
    audit_record(actor=user, action=AttendanceAction.INCIDENT_REPORTED, obj=incident,
                 school=session.school, data={"kind": kind, "session": session.pk})
    _guardians_told_of_incident(session, incident)
    return remember(client_id, Reply(201, incident_json(incident)))


def incident_json(incident: Incident) -> dict:
    return {"id": incident.pk, "session": incident.session_id, "student": incident.student_id,
            "kind": incident.kind, "note": incident.note,
            "occurred_at": incident.occurred_at.isoformat(),
            "acknowledged_at": incident.acknowledged_at.isoformat()
            if incident.acknowledged_at else None,
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "resolution": incident.resolution}


@transaction.atomic
def incident_acknowledge(*, incident: Incident, user: User) -> Incident:
    """The guardian has seen it. Acknowledging twice changes nothing."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.acknowledged_at is None:
        incident.acknowledged_at = timezone.now()
        incident.acknowledged_by = user
        incident.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(actor=user, action=AttendanceAction.INCIDENT_ACKNOWLEDGED, obj=incident,
                     school=incident.session.school)
    return incident


@transaction.atomic
def incident_resolve(*, incident: Incident, user: User, resolution: str) -> Incident:
    """Close an incident (collected by the family, recovered): it leaves the session's list of
    open attentions."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.resolved_at is not None:
        raise Conflict(_("这个事件已处理完毕。"), code="already_resolved")
    incident.resolved_at = timezone.now()
    incident.resolved_by = user
    incident.resolution = resolution
    incident.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(actor=user, action=AttendanceAction.INCIDENT_RESOLVED, obj=incident,
                 school=incident.session.school, data={"resolution": resolution})
    return incident
