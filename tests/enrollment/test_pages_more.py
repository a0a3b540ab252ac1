"""The enrollment pages test_pages.py leaves out: the needs survey (a guardian answers it, the
principal's page totals it per grade), resubmitting a returned application, cancelling one, and
the principal's decision on a withdrawal. Each with what it writes (state, audit row, notice)
and who is turned away (another family, another school: 404, nothing written)."""

import datetime
import re

import pytest
from django.utils import timezone

from enrollment.models import Application, SurveyResponse, Withdrawal
from notifications.models import Notification
from schools.models import AuditEntry, ServiceSlot
from tests import factories as f

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.force_login(user)
    return client


def _audit(action: str, obj) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_id=str(obj.pk))
                .order_by("at", "id"))


def _notices(user, purpose: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, purpose=purpose, channel="in_app"))


def _slots(term, kind: str, *weekdays: int) -> list[int]:
    return list(term.slots.filter(kind=kind, weekday__in=weekdays).values_list("pk", flat=True))


# --- The needs survey -------------------------------------------------------------------------

def _survey_url(cast, student) -> str:
    return f"/enrollment/terms/{cast.term.pk}/survey/{student.pk}/"


def _survey_rows(page: str) -> list[tuple[int, int]]:
    """(grade, children) of each row of the survey table on the principal's page."""
    table = page.split("需求调查", 1)[1].split("</table>", 1)[0]
    return [(int(grade), int(n)) for grade, n in
            re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>(\d+)</td></tr>", table)]


def test_a_guardian_answers_the_survey_and_the_principal_sees_the_totals(cast, plan, client):
    first_grader = f.StudentFactory(school=cast.school, name="刘一",
                                    homeroom=f.HomeroomFactory(
                                        school=cast.school, name="1班",
                                        grade=f.GradeFactory(school=cast.school, number=1)))
    f.link_guardian(cast.guardian2, first_grader)
    answers = [(cast.parent, cast.child, _slots(cast.term, "afternoon", 1, 3)
                + _slots(cast.term, "noon", 1)),
               (cast.parent, cast.sibling, _slots(cast.term, "afternoon", 1)),
               (cast.parent2, cast.other_child, _slots(cast.term, "noon", 2)),
               (cast.parent2, first_grader, _slots(cast.term, "afternoon", 1, 2))]
    for user, student, slots in answers:
        page = _as(client, user).get(_survey_url(cast, student))
        assert page.status_code == 200 and student.name in page.content.decode()
        response = client.post(_survey_url(cast, student), {"slots": slots})
        assert response.status_code == 302 and response.url == "/enrollment/"
    # Answering again replaces the answer: the child counts once, for the slots now chosen.
    again = _slots(cast.term, "afternoon", 1, 2)
    _as(client, cast.parent2).post(_survey_url(cast, cast.other_child), {"slots": again})

    response = SurveyResponse.objects.get(term=cast.term, student=cast.other_child)
    assert response.guardian == cast.parent2
    assert sorted(response.slots.values_list("pk", flat=True)) == sorted(again)
    assert SurveyResponse.objects.filter(term=cast.term).count() == 4
    entries = _audit("enrollment.survey.answered", response)
    assert [e.data["slots"] for e in entries] == [_slots(cast.term, "noon", 2), again]
    assert all(e.actor == cast.parent2 and e.school == cast.school for e in entries)

    page = _as(client, cast.principal).get("/enrollment/decide/")
    assert page.status_code == 200
    [(term, _counts, _plan, totals)] = [x for x in page.context["figures"] if x[0] == cast.term]
    assert [(t["student__grade__number"], t["slots__kind"], t["n"]) for t in totals] == [
        (1, ServiceSlot.Kind.AFTERNOON, 1),
        (3, ServiceSlot.Kind.AFTERNOON, 3),  # child, sibling, other_child (now afternoons)
        (3, ServiceSlot.Kind.NOON, 1),  # child
    ]
    assert _survey_rows(page.content.decode()) == [(1, 1), (3, 3), (3, 1)]
    # The slot kind by its label, never its code.
    table = page.content.decode().split("需求调查", 1)[1].split("</table>", 1)[0]
    assert "<td>课后</td>" in table and "<td>午间</td>" in table
    assert "afternoon" not in table and "noon" not in table


def test_the_survey_is_refused_to_another_family_and_to_staff(cast, plan, client):
    slots = _slots(cast.term, "afternoon", 1)
    for user in (cast.parent2, cast.principal, cast.homeroom_teacher):
        _as(client, user)
        assert client.get(_survey_url(cast, cast.child)).status_code == 404
        assert client.post(_survey_url(cast, cast.child), {"slots": slots}).status_code == 404
    assert not SurveyResponse.objects.exists()
    assert not AuditEntry.objects.filter(action="enrollment.survey.answered").exists()


def test_another_schools_principal_does_not_see_the_survey_totals(cast, plan, client):
    _as(client, cast.parent).post(_survey_url(cast, cast.child),
                                  {"slots": _slots(cast.term, "afternoon", 1)})
    assert SurveyResponse.objects.filter(student=cast.child).exists()
    page = _as(client, cast.principal2).get("/enrollment/decide/")
    assert page.status_code == 200
    assert [x[0] for x in page.context["figures"]] == [cast.other_term]
    assert _survey_rows(page.content.decode()) == []


# --- Resubmitting a returned application ------------------------------------------------------

@pytest.fixture
def returned(cast, submitted, client):
    """The child's application, returned by the homeroom teacher with a reason."""
    response = _as(client, cast.homeroom_teacher).post(
        f"/enrollment/applications/{submitted.pk}/review/",
        {"decision": "return", "reason": "请补充双职工证明"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.RETURNED
    return submitted


def _resubmit_form(cast, plan, **extra) -> dict:
    data = {"slots": _slots(cast.term, "afternoon", 1, 2, 3), "agreement_version": plan.version,
            "signed_name": "张伟", "confirm": "on", "note": "只需周一至周三"}
    return data | extra


def test_a_guardian_corrects_and_resubmits_a_returned_application(cast, plan, returned,
                                                                   client):
    assert "请补充双职工证明" in _notices(cast.parent, "enrollment.decision")[0].body
    url = f"/enrollment/applications/{returned.pk}/resubmit/"
    page = _as(client, cast.parent).get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["priority_claims"] == ["dual_working"]

    response = client.post(url, _resubmit_form(cast, plan), HTTP_USER_AGENT="Mozilla/5.0")

    assert response.status_code == 302 and response.url == f"/enrollment/applications/" \
                                                          f"{returned.pk}/"
    returned.refresh_from_db()
    assert returned.status == Application.Status.SUBMITTED
    assert returned.note == "只需周一至周三" and returned.priority_claims == []
    assert not returned.is_priority  # a third-grader without a claim
    assert sorted(returned.slots.values_list("pk", flat=True)) == \
        _slots(cast.term, "afternoon", 1, 2, 3)
    signatures = list(returned.signatures.order_by("signed_at"))
    assert len(signatures) == 2 and signatures[-1].user_agent == "Mozilla/5.0"
    [entry] = _audit("enrollment.application.resubmitted", returned)
    assert entry.actor == cast.parent and entry.data["priority_claims"] == []
    # Back in the homeroom teacher's queue.
    queue = _as(client, cast.homeroom_teacher).get("/enrollment/review/").content.decode()
    assert cast.child.name in queue


def test_only_a_returned_application_can_be_resubmitted(cast, plan, submitted, client):
    response = _as(client, cast.parent).post(
        f"/enrollment/applications/{submitted.pk}/resubmit/", _resubmit_form(cast, plan))
    assert response.status_code == 200
    assert "不允许执行“重新提交”" in response.content.decode()
    assert submitted.signatures.count() == 1
    assert not _audit("enrollment.application.resubmitted", submitted)


def test_resubmitting_is_refused_to_another_family_and_another_school(cast, plan, returned,
                                                                      client):
    url = f"/enrollment/applications/{returned.pk}/resubmit/"
    for user in (cast.parent2, cast.principal2, cast.principal):
        _as(client, user)
        assert client.get(url).status_code == 404
        assert client.post(url, _resubmit_form(cast, plan)).status_code == 404
    returned.refresh_from_db()
    assert returned.status == Application.Status.RETURNED
    assert returned.signatures.count() == 1
    assert not _audit("enrollment.application.resubmitted", returned)


# --- Cancelling an application ----------------------------------------------------------------

def test_a_guardian_cancels_an_open_application(cast, submitted, client):
    url = f"/enrollment/applications/{submitted.pk}/cancel/"
    assert _as(client, cast.parent).get(url).status_code == 405

    response = client.post(url)

    assert response.status_code == 302 and response.url == "/enrollment/"
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.CANCELLED
    [entry] = _audit("enrollment.application.cancelled", submitted)
    assert entry.actor == cast.parent
    # Out of the homeroom teacher's queue.
    queue = _as(client, cast.homeroom_teacher).get("/enrollment/review/")
    assert submitted not in queue.context["applications"]


def test_an_approved_application_cannot_be_cancelled(cast, enrolment, client):
    application = enrolment.application
    response = _as(client, cast.parent).post(
        f"/enrollment/applications/{application.pk}/cancel/", follow=True)
    assert "不允许执行“撤回”" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert not _audit("enrollment.application.cancelled", application)


def test_cancelling_is_refused_to_another_family_and_another_school(cast, submitted, client):
    url = f"/enrollment/applications/{submitted.pk}/cancel/"
    for user in (cast.parent2, cast.principal2, cast.homeroom_teacher):
        assert _as(client, user).post(url).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.SUBMITTED
    assert not _audit("enrollment.application.cancelled", submitted)


# --- The principal's decision on a withdrawal -------------------------------------------------

@pytest.fixture
def withdrawal(cast, enrolment, client):
    """The guardian's request, through the page, to withdraw the child in ten days."""
    effective = timezone.localdate() + datetime.timedelta(days=10)
    response = _as(client, cast.parent).post(
        f"/enrollment/enrolments/{enrolment.pk}/withdraw/",
        {"effective_date": effective.isoformat(), "reason": "搬家"})
    assert response.status_code == 302
    return Withdrawal.objects.get(enrolment=enrolment)


def _decide(client, withdrawal, **data):
    return client.post(f"/enrollment/withdrawals/{withdrawal.pk}/decide/", data)


def test_the_principal_approves_a_withdrawal(cast, enrolment, withdrawal, client):
    queue = _as(client, cast.principal).get("/enrollment/decide/")
    assert withdrawal in queue.context["withdrawals"]

    response = _decide(client, withdrawal, decision="approve")

    assert response.status_code == 302 and response.url == "/enrollment/decide/"
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED
    assert withdrawal.decided_by == cast.principal and withdrawal.decided_at is not None
    enrolment.refresh_from_db()
    # Service runs until the effective date; the enrolment ends then.
    assert enrolment.end_date == withdrawal.effective_date
    assert enrolment.status == "active"
    [entry] = _audit("enrollment.withdrawal.decided", withdrawal)
    assert entry.actor == cast.principal and entry.data["approve"] is True
    [notice] = _notices(cast.parent, "enrollment.withdrawal")
    assert cast.child.name in notice.body and "已批准" in notice.body
    # Decided once: a second decision is refused and tells nobody again.
    _decide(client, withdrawal, decision="reject", reason="改主意")
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED
    assert len(_notices(cast.parent, "enrollment.withdrawal")) == 1


def test_a_refusal_needs_a_reason_and_is_told_to_the_guardian(cast, enrolment, withdrawal,
                                                                client):
    page = _decide(_as(client, cast.principal), withdrawal, decision="reject")
    assert page.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    assert not _notices(cast.parent, "enrollment.withdrawal")

    _decide(client, withdrawal, decision="reject", reason="学期末再退")

    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REJECTED
    assert withdrawal.decision_reason == "学期末再退"
    enrolment.refresh_from_db()
    assert enrolment.end_date is None
    [entry] = _audit("enrollment.withdrawal.decided", withdrawal)
    assert entry.data["approve"] is False and entry.data["reason"] == "学期末再退"
    [notice] = _notices(cast.parent, "enrollment.withdrawal")
    assert "学期末再退" in notice.body


def test_deciding_a_withdrawal_is_refused_to_another_school_and_to_the_family(
        cast, enrolment, withdrawal, client):
    for user in (cast.principal2, cast.parent, cast.homeroom_teacher, cast.officer):
        assert _decide(_as(client, user), withdrawal, decision="approve").status_code == 404
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    enrolment.refresh_from_db()
    assert enrolment.end_date is None
    assert not _audit("enrollment.withdrawal.decided", withdrawal)
    assert not _notices(cast.parent, "enrollment.withdrawal")
    assert withdrawal not in _as(client, cast.principal2).get(
        "/enrollment/decide/").context["withdrawals"]
