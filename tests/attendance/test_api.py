"""The Attendance table of API.md, through HTTP, with its denied cases; then the database and
the side effects (outbox rows in the alert lane, refusal and conflict rows, audit)."""

import datetime
import uuid

import pytest
from django.utils import timezone

from attendance import services
from attendance.models import (
    ClassSession,
    ClientWrite,
    DayClose,
    Handoff,
    HandoffConflict,
    Incident,
    LatePickup,
    Mark,
    Refusal,
)
from attendance.pickup import daily_code
from attendance.selectors import expected_child, expected_in
from enrollment import services as enrollment
from notifications.models import Notification
from schools.models import AuditEntry, GuardianStudent, ServiceSlot
from tests import factories as f

pytestmark = pytest.mark.django_db


def _alerts(purpose, **filters):
    return Notification.objects.filter(purpose=purpose, urgency="alert", **filters)


def test_an_allocation_creates_one_session_per_class_and_day(cast, allocated, session):
    classes = allocated.classes.count()
    assert ClassSession.objects.filter(temporary_class__menu=allocated).count() == classes
    assert session.date == allocated.week and session.teacher.user == cast.teacher
    assert session.substitute
    # The daily scan is idempotent.
    assert services.sessions_ensure(today=allocated.week) == 0
    assert ClassSession.objects.filter(temporary_class__menu=allocated).count() == classes


def test_the_session_lists_its_children_with_masked_pickup_adults(api, cast, session):
    services.pickup_adult_add(student=cast.child, user=cast.parent, name="李芳",
                              relation="奶奶", phone="13900001234")
    body = api(cast.teacher).get(f"/api/v1/sessions/{session.pk}/").json()
    row = next(e for e in body["expected"] if e["student"] == cast.child.pk)
    assert row["status"] is None and row["handoff"] is None
    names = {a["name"]: a for a in row["pickup"]["adults"]}
    assert names["李芳"]["phone_last4"] == "1234" and "phone" not in names["李芳"]
    assert names["张伟"]["id"] == f"g{cast.guardian.pk}"
    assert "13900001234" not in str(body)


@pytest.mark.parametrize("who", ["parent", "homeroom_teacher2", "principal2", "officer"])
def test_a_session_outside_scope_is_404(api, cast, session, who):
    assert api(getattr(cast, who)).get(f"/api/v1/sessions/{session.pk}/").status_code == 404


def test_only_the_serving_teacher_takes_roll(api, cast, session):
    body = {"marks": [{"student": cast.child.pk, "status": "present",
                       "client_id": str(uuid.uuid4())}]}
    for user in (cast.principal, cast.homeroom_teacher):
        response = api(user).post(f"/api/v1/sessions/{session.pk}/roll-call/", body,
                                  format="json")
        assert response.status_code == 404
    assert not Mark.objects.exists()


def test_roll_call_alerts_the_guardians_of_an_unexplained_absence_once(tablet, cast, session,
                                                                      django_capture_on_commit_callbacks):
    ids = [str(uuid.uuid4()) for _ in range(2)]
    children = [e.pk for e in (cast.child,)]
    body = {"marks": [{"student": children[0], "status": "absent", "client_id": ids[0]}]}
    with django_capture_on_commit_callbacks(execute=True):
        first = tablet.post("roll-call/", body)
    assert first.status_code == 200, first.json()
    assert first.json()["unexplained"] == [cast.child.pk]
    alerts = _alerts("attendance.absent")
    assert sorted(alerts.values_list("channel", flat=True)) == ["in_app", "sms"]
    assert set(alerts.values_list("recipient", flat=True)) == {cast.parent.pk}
    # The same request again (a tablet's retry) writes nothing and alerts nobody twice.
    again = tablet.post("roll-call/", body)
    assert again.status_code == 200 and again.json()["marks"] == first.json()["marks"]
    assert Mark.objects.count() == 1 and alerts.count() == 2
    # A correction is a new mark; the first one stays.
    fix = tablet.post("roll-call/", {"marks": [
        {"student": cast.child.pk, "status": "present", "client_id": ids[1]}]})
    assert fix.json()["marks"][0]["correction"] is True
    assert list(Mark.objects.order_by("id").values_list("status", flat=True)) == [
        "absent", "present"]
    assert fix.json()["unexplained"] == []
    assert AuditEntry.objects.filter(action="attendance.roll.called").count() == 2


def test_a_reused_client_id_with_another_body_is_422(tablet, cast, session):
    cid = str(uuid.uuid4())
    tablet.post("roll-call/", {"marks": [{"student": cast.child.pk, "status": "absent",
                                          "client_id": cid}]})
    response = tablet.post("roll-call/", {"marks": [{"student": cast.child.pk,
                                                     "status": "late", "client_id": cid}]})
    assert response.status_code == 422 and "marks" in response.json()
    assert response.json()["code"] == "client_id_reused"  # API.md's code
    assert Mark.objects.count() == 1


def test_a_leave_reported_afterwards_explains_the_absence(tablet, cast, session, allocated):
    tablet.post("roll-call/", {"marks": [{"student": cast.child.pk, "status": "absent"}]})
    enrolment = cast.child.enrolments.get()
    enrollment.leave_report(enrolment=enrolment, user=cast.parent, date=session.date,
                            slot=session.slot, reason="看病")
    body = tablet.client.get(f"/api/v1/sessions/{session.pk}/").json()
    row = next(e for e in body["expected"] if e["student"] == cast.child.pk)
    assert row["leave"] is True and row["unexplained"] is False


def test_roll_call_refuses_a_child_not_in_the_session(tablet, cast):
    response = tablet.post("roll-call/", {"marks": [
        {"student": cast.far_child.pk, "status": "present", "client_id": str(uuid.uuid4())}]})
    assert response.status_code == 400 and "marks" in response.json()


def test_an_incident_reaches_the_guardian_who_acknowledges_it(api, tablet, cast):
    response = tablet.post("incidents/", {"student": cast.child.pk, "kind": "unwell",
                                          "note": "发烧 38.2℃，已在医务室休息"})
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get()
    assert _alerts("attendance.incident", recipient=cast.parent).count() == 2
    path = f"/api/v1/incidents/{incident.pk}/acknowledge/"
    assert api(cast.parent2).post(path).status_code == 404
    ok = api(cast.parent).post(path)
    assert ok.status_code == 200 and ok.json()["acknowledged_at"]


def _handoff(tablet, student, **body):
    return tablet.post("handoffs/", {"student": student.pk, "released_to": "guardian", **body})


def test_a_guardian_from_the_list_takes_the_child_and_is_told(tablet, cast):
    response = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}")
    assert response.status_code == 201, response.json()
    assert response.json()["person_name"] == "张伟"
    notice = Notification.objects.get(purpose="attendance.handoff", recipient=cast.parent)
    assert "张伟" in notice.body and "不是我们" in notice.body


def test_an_unlisted_adult_is_refused_recorded_and_told(tablet, cast,
                                                        django_capture_on_commit_callbacks):
    response = _handoff(tablet, cast.child, pickup_name="陌生人", pickup_phone="13700000000")
    assert response.status_code == 403
    assert response.json()["code"] == "not_authorised"
    assert response.json()["reason"] == "not_listed"
    refusal = Refusal.objects.get()
    assert refusal.teacher == cast.teacher and refusal.presented["pickup_name"] == "陌生人"
    assert _alerts("attendance.refused", recipient=cast.parent).exists()
    assert _alerts("attendance.refused", recipient=cast.principal).exists()
    assert not Handoff.objects.exists()


def test_a_revoked_adult_is_refused(tablet, cast):
    adult = services.pickup_adult_add(student=cast.child, user=cast.parent, name="李芳",
                                      relation="奶奶", phone="13900001234")
    services.pickup_adult_revoke(adult=adult, user=cast.parent)
    response = _handoff(tablet, cast.child, pickup_person=f"a{adult.pk}")
    assert response.status_code == 403 and response.json()["reason"] == "revoked"


def test_an_adult_outside_their_dates_is_refused(tablet, cast, session):
    adult = services.pickup_adult_add(
        student=cast.child, user=cast.parent, name="李芳", relation="奶奶",
        phone="13900001234", valid_from=session.date + datetime.timedelta(days=1))
    response = _handoff(tablet, cast.child, pickup_person=f"a{adult.pk}")
    assert response.status_code == 403 and response.json()["reason"] == "not_today"


def test_a_restricted_adult_is_refused_and_the_principal_alerted(api, tablet, cast):
    created = api(cast.principal).post(
        f"/api/v1/students/{cast.child.pk}/restricted-adults/",
        {"name": "张某", "phone": "13611112222", "reason": "法院禁止令"}, format="json")
    assert created.status_code == 201
    response = _handoff(tablet, cast.child, pickup_name="张某", pickup_phone="13611112222")
    assert response.status_code == 403 and response.json()["reason"] == "restricted"
    alert = _alerts("attendance.refused", recipient=cast.principal, channel="sms").get()
    assert "禁止接送人" in alert.subject


def test_todays_code_lets_its_bearer_take_the_child_but_not_another_days(tablet, cast,
                                                                         session):
    wrong_day = daily_code(cast.child.pk, session.date - datetime.timedelta(days=1))
    refused = _handoff(tablet, cast.child, pickup_code=wrong_day)
    assert refused.status_code == 403 and refused.json()["reason"] == "other_day_code"
    ok = _handoff(tablet, cast.child, pickup_code=daily_code(cast.child.pk, session.date))
    assert ok.status_code == 201 and ok.json()["via"] == "code"


def test_a_delegation_works_on_its_day_with_its_code(api, tablet, cast, session):
    created = api(cast.parent).post(f"/api/v1/students/{cast.child.pk}/delegations/",
                                    {"name": "王阿姨", "phone": "13800001111",
                                     "date": session.date.isoformat()}, format="json")
    assert created.status_code == 201
    ok = _handoff(tablet, cast.child, pickup_code=created.json()["code"])
    assert ok.status_code == 201
    assert ok.json()["person_name"] == "王阿姨" and ok.json()["via"] == "delegation"


def test_walking_home_needs_the_guardians_permission(api, tablet, cast, session):
    refused = _handoff(tablet, cast.child, released_to="self")
    assert refused.status_code == 403
    assert refused.json()["code"] == "no_walk_home_permission"
    path = f"/api/v1/students/{cast.child.pk}/walk-home/"
    body = {"valid_from": session.date.isoformat(), "valid_to": session.date.isoformat(),
            "signed_name": "张伟"}
    assert api(cast.parent).post(path, body, format="json").status_code == 400  # not allowed
    cast.school.allows_walk_home = True
    cast.school.save(update_fields=["allows_walk_home"])
    assert api(cast.parent2).post(path, body, format="json").status_code == 404
    assert api(cast.parent).post(path, body, format="json").status_code == 201
    assert _handoff(tablet, cast.child, released_to="self").status_code == 201


def test_a_second_different_release_is_a_recorded_conflict(tablet, cast):
    adult = services.pickup_adult_add(student=cast.child, user=cast.parent, name="李芳",
                                      relation="奶奶", phone="13900001234")
    assert _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}").status_code == 201
    same = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}")
    assert same.status_code == 200  # another tablet sending the same release
    other = _handoff(tablet, cast.child, pickup_person=f"a{adult.pk}")
    assert other.status_code == 409 and other.json()["code"] == "already_handed_off"
    assert Handoff.objects.count() == 1 and HandoffConflict.objects.count() == 1


def test_a_replayed_handoff_answers_the_same_and_writes_nothing(tablet, cast):
    cid = str(uuid.uuid4())
    first = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}", client_id=cid)
    again = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}", client_id=cid)
    assert (first.status_code, first.json()) == (again.status_code, again.json())
    assert Handoff.objects.count() == 1 and ClientWrite.objects.count() == 1
    reused = _handoff(tablet, cast.child, released_to="bus", client_id=cid)
    assert reused.status_code == 422 and reused.json()["client_id"]
    assert reused.json()["code"] == "client_id_reused"


def test_the_guardian_disputes_a_handoff_and_the_principal_is_alerted(api, tablet, cast):
    handoff = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}").json()
    path = f"/api/v1/handoffs/{handoff['id']}/dispute/"
    assert api(cast.parent2).post(path, {"note": "x"}, format="json").status_code == 404
    assert api(cast.parent).post(path, {"note": "不是我们"}, format="json").status_code == 201
    assert _alerts("attendance.disputed", recipient=cast.principal).count() == 2


def test_the_day_closes_only_when_every_child_present_is_released(api, tablet, cast, session):
    path = f"/api/v1/schools/{cast.school.pk}/days/{session.date.isoformat()}/close/"
    assert api(cast.principal2).post(path).status_code == 404
    assert api(cast.teacher).post(path).status_code == 404
    refused = api(cast.principal).post(path)
    assert refused.status_code == 409 and refused.json()["code"] == "not_handed_off"
    left = {row["student"] for row in refused.json()["students"]}
    assert cast.child.pk in left
    for s in ClassSession.objects.filter(school=cast.school, date=session.date):
        if s.teacher_id != session.teacher_id:
            services.session_set_teacher(session=s, teacher=cast.teacher.staff_profile,
                                         user=cast.principal)
        for e in expected_in(s):
            services.handoff_release(session=s, user=cast.teacher, client_id=uuid.uuid4(),
                                     data={"student": e.student.pk, "released_to": "guardian",
                                           "pickup_code": daily_code(e.student.pk, s.date)})
    closed = api(cast.principal).post(path)
    assert closed.status_code == 200, closed.json()
    assert DayClose.objects.get().closed_by == cast.principal
    day = api(cast.principal).get(
        f"/api/v1/schools/{cast.school.pk}/days/{session.date.isoformat()}/").json()
    assert day["not_released"] == [] and day["closed_at"]


def test_a_handoff_after_the_close_is_marked_synced_late(api, tablet, cast, session):
    DayClose.objects.create(school=cast.school, date=session.date, closed_by=cast.principal)
    response = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}",
                        occurred_at=timezone.now().isoformat())
    assert response.status_code == 201 and response.json()["synced_late"] is True
    assert Handoff.objects.get().synced_late
    assert AuditEntry.objects.get(action="attendance.handoff.released").data["synced_late"]
    assert ClientWrite.objects.get().response["synced_late"] is True


def test_late_pickups_escalate_step_by_step_once(cast, session,
                                                 django_capture_on_commit_callbacks):
    services.pickup_adult_add(student=cast.child, user=cast.parent, name="李芳",
                              relation="奶奶", phone="13900001234")
    ends = session.ends_at()
    grace = cast.school.pickup_grace_minutes

    def at(minutes):
        return services.late_pickups_scan(now=ends + datetime.timedelta(minutes=minutes))

    assert at(grace - 1) == 0
    assert at(grace) > 0
    # Each child of the family still there is one message on each channel.
    assert _alerts("attendance.late_pickup", recipient=cast.parent,
                   subject__contains="张小明").count() == 2
    assert at(grace + 5) == 0  # nothing twice
    at(grace + 20)
    assert _alerts("attendance.late_pickup_2", to_phone="13900001234").count() == 1
    assert _alerts("attendance.late_pickup_2", recipient=cast.homeroom_teacher).exists()
    at(grace + 30)
    assert _alerts("attendance.late_pickup_3", recipient=cast.principal).exists()
    again = Notification.objects.count()
    at(grace + 31)
    assert Notification.objects.count() == again
    steps = set(LatePickup.objects.filter(student=cast.child).values_list("step", flat=True))
    assert steps == {1, 2, 3}


def test_pickup_adults_are_the_guardians_to_keep_and_staff_to_read(api, cast, session):
    path = f"/api/v1/students/{cast.child.pk}/pickup-adults/"
    body = {"name": "李芳", "relation": "奶奶", "phone": "139 0000 1234"}
    assert api(cast.parent2).post(path, body, format="json").status_code == 404
    assert api(cast.teacher).post(path, body, format="json").status_code == 404
    created = api(cast.parent).post(path, body, format="json")
    assert created.status_code == 201 and created.json()["phone"] == "13900001234"
    assert api(cast.officer).get(path).status_code == 404
    staff_view = api(cast.teacher).get(path).json()
    assert staff_view[0]["phone_last4"] == "1234" and "phone" not in staff_view[0]
    bad = api(cast.parent).post(path, {**body, "phone": "12345"}, format="json")
    assert bad.status_code == 400 and "phone" in bad.json()
    revoke = f"/api/v1/pickup-adults/{created.json()['id']}/"
    assert api(cast.parent2).delete(revoke).status_code == 404
    assert api(cast.parent).delete(revoke).status_code == 204


def test_the_pickup_code_is_the_guardians_only(api, cast):
    path = f"/api/v1/students/{cast.child.pk}/pickup-code/"
    assert api(cast.teacher).get(path).status_code == 404
    assert api(cast.parent2).get(path).status_code == 404
    body = api(cast.parent).get(path).json()
    assert body["code"] == daily_code(cast.child.pk, timezone.localdate())
    assert len(body["code"]) == 6


def test_the_childs_attendance_for_the_term(api, tablet, cast, session):
    tablet.post("roll-call/", {"marks": [{"student": cast.child.pk, "status": "late"}]})
    _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}")
    path = f"/api/v1/students/{cast.child.pk}/attendance/"
    assert api(cast.parent2).get(path).status_code == 404
    assert api(cast.officer).get(path).status_code == 404
    body = api(cast.parent).get(path).json()
    line = next(s for s in body["sessions"] if s["session"] == session.pk)
    assert line["status"] == "late" and line["handoff"]["person_name"] == "张伟"


def test_guardian_links_are_authorised_from_the_start(tablet, cast):
    grandma = f.GuardianFactory(name="张奶奶")
    f.link_guardian(grandma, cast.child, relation=GuardianStudent.Relation.OTHER)
    assert _handoff(tablet, cast.child, pickup_person=f"g{grandma.pk}").status_code == 201


def test_a_roll_call_of_a_full_class_is_one_request_with_fixed_queries(
        api, cast, session, allocated, late_joiners, django_assert_max_num_queries):
    """A study hall filled to the cap: the queries do not grow with the children."""
    late_joiners(cast.school.temp_class_cap, seated=True)
    hall = (ClassSession.objects.filter(school=cast.school,
                                        date=session.date + datetime.timedelta(days=1))
            .order_by("-temporary_class__capacity").first())
    services.session_set_teacher(session=hall, teacher=cast.teacher.staff_profile,
                                 user=cast.principal)
    children = [e.student.pk for e in expected_in(hall)]
    assert len(children) >= 40
    marks = [{"student": pk, "status": "absent" if i < 3 else "present",
              "client_id": str(uuid.uuid4())} for i, pk in enumerate(children)]
    with django_assert_max_num_queries(24):
        response = api(cast.teacher).post(f"/api/v1/sessions/{hall.pk}/roll-call/",
                                          {"marks": marks}, format="json")
    assert response.status_code == 200
    assert Mark.objects.filter(session=hall).count() == len(children)
    assert len(response.json()["unexplained"]) == 3


def test_a_day_left_open_an_hour_after_its_last_session_alerts_the_principal_once(
        cast, session):
    last = max(s.ends_at() for s in ClassSession.objects.filter(school=cast.school,
                                                               date=session.date))
    reminders = _alerts("attendance.day_open", recipient=cast.principal)

    def at(minutes):
        return services.day_close_reminders(now=last + datetime.timedelta(minutes=minutes))

    assert at(59) == 0 and not reminders.exists()
    assert at(61) > 0 and reminders.count() == 2  # in the app and by SMS
    at(90)
    assert reminders.count() == 2  # once
    DayClose.objects.create(school=cast.school, date=session.date, closed_by=cast.principal)
    assert services.day_close_reminders(
        now=last + datetime.timedelta(days=0, minutes=61)) == 0



def test_only_the_serving_teacher_releases_a_child(api, cast, session):
    body = {"student": cast.child.pk, "released_to": "guardian",
            "pickup_code": daily_code(cast.child.pk, session.date),
            "client_id": str(uuid.uuid4())}
    for user in (cast.principal, cast.homeroom_teacher, cast.parent):
        response = api(user).post(f"/api/v1/sessions/{session.pk}/handoffs/", body,
                                  format="json")
        assert response.status_code == 404
    assert not Handoff.objects.exists() and not ClientWrite.objects.exists()


# Measured (a new connection, a cold content-type cache, the tablet signed in without a token
# lookup): the session (prepared, then run), the child's check (the class's list, kept with
# the fields a release reads: the class's next children cost no query), the content type, and
# the release (prepared, then run: the handoff, the client_id's claim with its reply, the
# audit row and the guardians' notice in one statement) inside a savepoint, which the test's
# transaction adds = 8. On a tablet's next release over the same connection: the session and
# the release, 2 (the token lookup makes 3). 11 before the release was one statement, 17
# before the handoff was first trimmed.
HANDOFF_MAX_QUERIES = 8


def test_a_handoff_at_the_door_takes_a_fixed_number_of_queries(
        tablet, cast, session, django_assert_max_num_queries):
    """The 16:30 rush (bench/handoff.py): each child released by the day's code, with the
    audit row and the guardian's notice still written."""
    with django_assert_max_num_queries(HANDOFF_MAX_QUERIES):
        response = _handoff(tablet, cast.child,
                            pickup_code=daily_code(cast.child.pk, session.date))
    assert response.status_code == 201, response.json()
    handoff = Handoff.objects.get()
    assert handoff.via == "code" and handoff.released_by == cast.teacher
    assert AuditEntry.objects.filter(action="attendance.handoff.released",
                                     object_id=str(handoff.pk)).exists()
    notice = _alerts("attendance.handoff", recipient=cast.parent, channel="in_app").get()
    assert notice.status == "sent" and notice.sent_at and notice.school == cast.school
    assert notice.dedupe_key == (f"attendance.handoff:{handoff.pk}:{cast.child.pk}:"
                                 f"{cast.parent.pk}#in_app")
    entry = AuditEntry.objects.get(action="attendance.handoff.released")
    assert entry.actor == cast.teacher and entry.school == cast.school
    assert entry.data["via"] == "code" and entry.data["synced_late"] is False
    stored = ClientWrite.objects.get()
    assert (stored.status_code, stored.response) == (201, response.json())


def test_the_next_release_on_the_same_connection_is_one_statement(
        tablet, cast, session, late_joiners, django_assert_num_queries):
    """Prepared once, the session's lookup and the release are run, not parsed again: the
    teacher's second release, in another session, is the session's lookup and one statement
    (the savepoint around it is the test's transaction's)."""
    [joiner] = late_joiners(1, seated=True)
    hall = ClassSession.objects.filter(temporary_class__placements__student=joiner).first()
    services.session_set_teacher(session=hall, teacher=cast.teacher.staff_profile,
                                 user=cast.principal)
    code = daily_code(cast.child.pk, session.date)
    assert _handoff(tablet, cast.child, pickup_code=code).status_code == 201
    expected_child(hall, joiner.pk)  # the hall's list, kept as earlier releases keep it
    with django_assert_num_queries(4) as captured:
        response = tablet.client.post(f"/api/v1/sessions/{hall.pk}/handoffs/", {
            "student": joiner.pk, "released_to": "guardian", "client_id": str(uuid.uuid4()),
            "pickup_code": daily_code(joiner.pk, hall.date)}, format="json")
    assert response.status_code == 201, response.json()
    assert [q["sql"].split()[0] for q in captured.captured_queries] == [
        "EXECUTE", "SAVEPOINT", "EXECUTE", "RELEASE"]
    assert Handoff.objects.count() == 2


def test_a_refusals_client_id_sent_again_as_a_release_is_422_and_writes_nothing(
        tablet, cast):
    """The release's one statement meets the id its refusal claimed: nothing of it stays
    (no handoff, no audit row, no notice), and the checked way answers 422."""
    cid = str(uuid.uuid4())
    refused = _handoff(tablet, cast.child, pickup_name="王五", pickup_phone="13900009999",
                       client_id=cid)
    assert refused.status_code == 403
    reused = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}", client_id=cid)
    assert reused.status_code == 422 and reused.json()["code"] == "client_id_reused"
    assert not Handoff.objects.exists() and Refusal.objects.count() == 1
    assert not AuditEntry.objects.filter(action="attendance.handoff.released").exists()
    assert not Notification.objects.filter(purpose="attendance.handoff").exists()
    assert ClientWrite.objects.get().status_code == 403


def test_a_replay_is_answered_after_the_child_has_left_the_class(tablet, cast, session):
    """A tablet that was offline sends a release again after the child was moved out of the
    class: it gets the answer it was first given; a new release is refused, naming the
    child."""
    from attendance.selectors import expected_forget
    from scheduling.models import Placement

    cid = str(uuid.uuid4())
    first = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}", client_id=cid)
    assert first.status_code == 201
    Placement.objects.filter(temporary_class=session.temporary_class,
                             student=cast.child).delete()  # test setup: moved out
    expected_forget()
    again = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}", client_id=cid)
    assert (again.status_code, again.json()) == (201, first.json())
    new = _handoff(tablet, cast.child, pickup_person=f"g{cast.guardian.pk}")
    assert new.status_code == 400 and "student" in new.json()
    assert Handoff.objects.count() == 1 and ClientWrite.objects.count() == 1


def test_back_to_lessons_only_after_a_morning_or_noon_session(tablet, cast, session):
    """After a noon session the children go back to class; an afternoon session's children
    cannot be "sent back to lessons" (400 naming the field), and nothing is written."""
    response = _handoff(tablet, cast.child, released_to="lessons")
    assert response.status_code == 400
    assert "released_to" in response.json(), response.json()
    assert not Handoff.objects.filter(session=session).exists()
    # Test setup only: the session's slot becomes that weekday's noon slot.
    slots = ServiceSlot.objects.filter(term=session.term, weekday=session.slot.weekday)
    slots.filter(kind=ServiceSlot.Kind.NOON).update(kind=ServiceSlot.Kind.EVENING)
    slots.filter(pk=session.slot_id).update(kind=ServiceSlot.Kind.NOON)
    response = _handoff(tablet, cast.child, released_to="lessons")
    assert response.status_code == 201, response.json()
    assert response.json()["released_to"] == "lessons"
