"""The handoff (R8 无缝衔接): each child released once per session, only to a person authorised
for that child that day, to the bus, home alone with written permission, or on to another
session. A refused release and a second, different release are rows of their own that the
guardians and the principal hear about.

An authorised release, the 16:30 rush's every request, is one prepared statement: the handoff,
its audit entry, the guardians' notice and the tablet's stored reply (`_write`). Two tablets
releasing the same child at once meet on the unique (session, student) index: the second waits
for the first to commit, writes nothing, and takes the checked way, which finds the first row
and answers 409 already_handed_off (or, if it sent the same release, that row)."""

import contextlib
import datetime
import json
import uuid

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record, audit_sql
from schools.db import Sql, fetch_one_prepared, insert_sql, with_parts
from schools.errors import PolicyViolation
from schools.formats import time_label
from schools.models import ServiceSlot, User

from ..events import AttendanceAction
from ..idempotency import Reply, claim, claim_sql, happened_at, remember
from ..models import ClassSession, DayClose, Handoff, HandoffConflict, HandoffDispute, Refusal
from ..pickup import Verdict, check_code, check_person, walk_home_on
from ..selectors import expected_child
from . import alerts

To = Handoff.To
# The slots after which the children go back to class.
BEFORE_LESSONS = {ServiceSlot.Kind.MORNING, ServiceSlot.Kind.NOON}
Reason = Refusal.Reason


def handoff_json(h: Handoff) -> dict:
    return {"id": h.pk, "session": h.session_id, "student": h.student_id,
            "released_to": h.released_to, "via": h.via, "person_name": h.person_name,
            "person_relation": h.person_relation, "transfer_to": h.transfer_to_id,
            "occurred_at": h.occurred_at.isoformat(), "received_at": h.received_at.isoformat(),
            "synced_late": h.synced_late}


def _verdict(session: ClassSession, student, data: dict) -> Verdict:
    to = data["released_to"]
    if to == To.GUARDIAN:
        if data.get("pickup_code"):
            return check_code(student, session.date, data["pickup_code"],
                              name=data.get("pickup_name", ""))
        return check_person(student, session.date, person_id=data.get("pickup_person", ""),
                            name=data.get("pickup_name", ""),
                            phone=data.get("pickup_phone", ""))
    if to == To.BUS:
        return Verdict() if student.bus_rider else Verdict(Reason.NOT_BUS_RIDER)
    if to == To.LESSONS:
        if session.slot.kind not in BEFORE_LESSONS:
            raise PolicyViolation(_("只有晨间、午间课次结束后才能回班上课。"), field="released_to")
        return Verdict(via="")
    if to == To.SELF:
        allowed = session.school.allows_walk_home and student.pk in walk_home_on(
            [student.pk], session.date)
        return Verdict(via="") if allowed else Verdict(Reason.NO_WALK_HOME)
    return Verdict(via="")


def _transfer_target(session: ClassSession, student_id: int, target_id) -> ClassSession:
    target = ClassSession.objects.filter(pk=target_id, school_id=session.school_id,
                                         date=session.date).exclude(pk=session.pk).first()
    if (target is None or target.start < session.end
            or expected_child(target, student_id) is None):
        raise PolicyViolation(_("请选择这名学生当天稍后的另一个课次。"), field="transfer_to")
    return target


def handoff_release(*, session: ClassSession, user: User, data: dict, client_id: uuid.UUID,
                    occurred_at: datetime.datetime | None = None) -> Reply:
    """Release a child. `data`: student, released_to, and pickup_person (an id from the
    child's list) or pickup_code (with pickup_name if given), or pickup_name/pickup_phone of
    someone not on the list; transfer_to for a transfer. Returns the reply: 201 the handoff,
    403 not_authorised (recorded), 409 already_handed_off (recorded).

    The 16:30 rush is made of authorised releases: each is one statement (`_write` with the
    claim of its client_id), atomic without a transaction. Whatever that statement did not
    write (a replay, a reused client_id, a child already gone), a refusal and a release the
    checks turn down take the checked way, in a transaction that claims the client_id first,
    so a replay is answered from what its first sending answered."""
    body = {"session": session.pk, **{k: v for k, v in data.items() if v not in ("", None)}}
    when = happened_at(occurred_at, timezone.now())
    try:
        handoff, verdict = _prepare(session, user, data, client_id, when)
    except PolicyViolation as problem:
        return _stored_or_raise(client_id, user, body, problem)
    if verdict.authorised and _write(handoff, claim=dict(
            kind="handoff", client_id=client_id, user=user, body=body, status=201)):
        return Reply(201, handoff_json(handoff))
    return _release_checked(handoff, verdict, user=user, data=data, body=body)


def _prepare(session: ClassSession, user: User, data: dict, client_id: uuid.UUID,
             when: datetime.datetime) -> tuple[Handoff, Verdict]:
    """The release asked for (unsaved) and whether the person may take the child; raises
    PolicyViolation for a child not in the session or a release that cannot be."""
    student = expected_child(session, data["student"])
    if student is None:
        raise PolicyViolation(_("这名学生不在本课次的名单中。"), field="student")
    transfer_to = (_transfer_target(session, student.pk, data.get("transfer_to"))
                   if data["released_to"] == To.TRANSFER else None)
    verdict = _verdict(session, student, data)
    return Handoff(
        session=session, student=student, released_to=data["released_to"], via=verdict.via,
        person_name=verdict.name, person_relation=verdict.relation,
        guardian_id=verdict.guardian_id, pickup_adult_id=verdict.pickup_adult_id,
        delegation_id=verdict.delegation_id, transfer_to=transfer_to, client_id=client_id,
        occurred_at=when, released_by=user), verdict


@transaction.atomic
def _stored_or_raise(client_id: uuid.UUID, user: User, body: dict, problem: PolicyViolation):
    """A release that cannot be: the reply stored for its client_id if it is a replay (the
    child may have left the list since), else the problem (and the claim is rolled back)."""
    if (replay := claim(kind="handoff", client_id=client_id, user=user, body=body)):
        return replay
    raise problem


@transaction.atomic
def _release_checked(handoff: Handoff, verdict: Verdict, *, user: User, data: dict,
                     body: dict) -> Reply:
    session, client_id, when = handoff.session, handoff.client_id, handoff.occurred_at
    if (replay := claim(kind="handoff", client_id=client_id, user=user, body=body)):
        return replay
    if not verdict.authorised:
        return remember(client_id, _refuse(session, user, handoff.student, verdict, data,
                                           client_id, when))
    if not _write(handoff):
        return remember(client_id, _second_release(session, user, handoff, client_id, when))
    return remember(client_id, Reply(201, handoff_json(handoff)))


def _write(handoff: Handoff, *, claim: dict | None = None) -> bool:
    """Write the handoff, its audit entry and the guardians' notice in one statement, with the
    claim of its client_id and the reply when `claim` (claim_sql's arguments) is given; whether
    it was written. Nothing is written if the child has left the session already (ON CONFLICT
    DO NOTHING meets the unique (session, student) index: a second tablet's release waits for
    the first to commit, then writes nothing) or, with `claim`, if the client_id was used
    before. `synced_late`, whether the school's day was closed before the release arrived, is
    read by the same statement."""
    session, student = handoff.session, handoff.student
    closed = Sql(f"EXISTS (SELECT 1 FROM {DayClose._meta.db_table} "
                 "WHERE school_id = %s AND date = %s)", (session.school_id, session.date))
    parts = {"released": insert_sql(handoff, computed={"synced_late": closed},
                                    ignore_conflicts=True, returning=("id", "synced_late"))}
    if claim is not None:
        parts["claimed"] = claim_sql(**claim, source="released", reply=Sql(
            "%s::jsonb || jsonb_build_object('id', released.id, 'synced_late', "
            "released.synced_late)", (json.dumps(handoff_json(handoff)),)))
    parts["audited"] = audit_sql(
        actor=handoff.released_by, action=AttendanceAction.HANDED_OFF, obj=handoff,
        school=session.school_id, source=Sql("released"), object_id=Sql("released.id::text"),
        data={"released_to": handoff.released_to, "via": handoff.via,
              "person": handoff.person_name, "occurred_at": handoff.occurred_at.isoformat()},
        more_data=Sql("jsonb_build_object('synced_late', released.synced_late)"))
    parts["told"] = alerts.guardians_sql(
        student=student, session=session, purpose="attendance.handoff", key=Sql("released.id"),
        source="released", subject=_("%(name)s 已离开课后服务") % {"name": student.name},
        body=_handoff_line(handoff, student.name) + " "
        + _("如果不是您安排的人，请立即在页面上点“不是我们”。"))
    statement = with_parts(parts, Sql("SELECT id, synced_late FROM released"))
    try:
        with _savepoint_if_in_transaction():
            written = fetch_one_prepared(statement)
    except IntegrityError:
        if claim is None:
            raise
        return False  # the client_id was claimed before: the checked way answers
    if written is None:
        return False
    handoff.pk, handoff.synced_late = written
    handoff._state.adding, handoff._state.db = False, connection.alias
    return True


def _savepoint_if_in_transaction():
    """Around a statement whose failure is an answer: outside a transaction the statement is
    atomic by itself (no BEGIN and COMMIT to wait for); inside one, a savepoint keeps the
    transaction usable after it fails."""
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def _same(a: Handoff, b: Handoff) -> bool:
    return (a.released_to, a.guardian_id, a.pickup_adult_id, a.delegation_id, a.transfer_to_id,
            a.via) == (b.released_to, b.guardian_id, b.pickup_adult_id, b.delegation_id,
                       b.transfer_to_id, b.via)


def _second_release(session, user, attempt: Handoff, client_id, when) -> Reply:
    first = Handoff.objects.get(session=session, student=attempt.student)
    if _same(first, attempt):
        # Another tablet sent the same release: the child left once, with that person.
        return Reply(200, handoff_json(first))
    conflict = HandoffConflict.objects.create(
        session=session, student=attempt.student, handoff=first, teacher=user,
        client_id=client_id, occurred_at=when,
        attempted={"released_to": attempt.released_to, "person_name": attempt.person_name,
                   "via": attempt.via, "transfer_to": attempt.transfer_to_id})
    audit_record(actor=user, action=AttendanceAction.HANDOFF_CONFLICT, obj=conflict,
                 school=session.school_id, data={"handoff": first.pk, **conflict.attempted})
    return Reply(409, {"code": "already_handed_off",
                       "detail": _("%(name)s 已于 %(time)s 交给 %(person)s，不能再次交接。")
                       % {"name": attempt.student.name,
                          "time": time_label(timezone.localtime(first.occurred_at).time()),
                          "person": first.person_name or first.get_released_to_display()},
                       "handoff": handoff_json(first)})


def _refuse(session, user, student, verdict: Verdict, data: dict, client_id, when) -> Reply:
    presented = {k: data[k] for k in ("released_to", "pickup_person", "pickup_name",
                                      "pickup_phone") if data.get(k)}
    if data.get("pickup_code"):
        presented["pickup_code"] = "*" * len(str(data["pickup_code"]))
    if verdict.name:
        presented.setdefault("pickup_name", verdict.name)
    refusal = Refusal.objects.create(session=session, student=student, reason=verdict.reason,
                                     presented=presented, teacher=user, client_id=client_id,
                                     occurred_at=when)
    audit_record(actor=user, action=AttendanceAction.HANDOFF_REFUSED, obj=refusal,
                 school=session.school_id, data={"reason": verdict.reason, **presented})
    who = presented.get("pickup_name") or _("来人")
    text = _("%(time)s，%(who)s 要接 %(name)s（%(cls)s），未获准：%(reason)s。"
             "孩子仍由老师看护。") % {
        "time": time_label(timezone.localtime(when).time()), "who": who, "name": student.name,
        "cls": session.temporary_class.name, "reason": refusal.get_reason_display()}
    if data["released_to"] == To.GUARDIAN:
        alerts.guardians(students=[student], session=session, purpose="attendance.refused",
                         key=refusal.pk, subject=lambda c: _("有人要接 %(name)s，未获准") % {
                             "name": c.name}, body=lambda c: text)
    alerts.managers(session=session, purpose="attendance.refused", key=refusal.pk,
                    subject=(_("禁止接送人试图接走 %(name)s") if verdict.reason == Reason.RESTRICTED
                             else _("拒绝交接：%(name)s")) % {"name": student.name}, body=text)
    code = "not_authorised" if data["released_to"] != To.SELF else "no_walk_home_permission"
    return Reply(403, {"code": code, "reason": verdict.reason,
                       "detail": str(refusal.get_reason_display()), "refusal": refusal.pk})


def _handoff_line(handoff: Handoff, name: str) -> str:
    at = time_label(timezone.localtime(handoff.occurred_at).time())
    if handoff.released_to == To.GUARDIAN:
        who = (f"{handoff.person_name}（{handoff.person_relation}）" if handoff.person_relation
               else handoff.person_name or _("出示接送码的人"))
        return _("%(name)s 已于 %(time)s 由 %(who)s 接走。") % {"name": name, "time": at,
                                                            "who": who}
    if handoff.released_to == To.TRANSFER:
        return _("%(name)s 已于 %(time)s 转入 %(cls)s。") % {
            "name": name, "time": at, "cls": handoff.transfer_to.temporary_class.name}
    return _("%(name)s 已于 %(time)s %(how)s。") % {
        "name": name, "time": at, "how": handoff.get_released_to_display()}


@transaction.atomic
def handoff_dispute(*, handoff: Handoff, user: User, note: str = "") -> HandoffDispute:
    """A guardian says "that was not us": the principal is alerted at once."""
    dispute = HandoffDispute.objects.create(handoff=handoff, raised_by=user, note=note)
    session = handoff.session
    audit_record(actor=user, action=AttendanceAction.HANDOFF_DISPUTED, obj=handoff,
                 school=session.school, data={"note": note})
    alerts.managers(
        session=session, purpose="attendance.disputed", key=dispute.pk,
        subject=_("家长称不是他们接走了 %(name)s") % {"name": handoff.student.name},
        body=_("%(name)s 于 %(time)s 交给 %(person)s；家长 %(guardian)s 表示不是他们安排的人。"
               "%(note)s 请立即核实。") % {
            "name": handoff.student.name,
            "time": time_label(timezone.localtime(handoff.occurred_at).time()),
            "person": handoff.person_name or handoff.get_released_to_display(),
            "guardian": user.display_name or user.username, "note": note})
    return dispute
