"""Bulk class review and bulk approval of a whole school's applications through the API: the
number of queries is a small constant whatever the number of applications, and every
application still gets its enrolment, its slots, its audit row and its guardian's notice."""

import pytest
from django.utils import timezone

from enrollment.models import Application, Enrolment
from notifications.models import Notification
from schools.models import AuditEntry, GuardianStudent, Student
from tests import factories as f

pytestmark = pytest.mark.django_db

# Measured (cold content-type cache). bulk-decide: membership lookup, queue check, savepoint,
# locking select, update, enrolment insert, slot read and insert, content type, audit insert,
# outbox insert (one INSERT ... ON CONFLICT DO NOTHING RETURNING), release = 12 for 100
# applications; 13 for 1,000 because notify_many inserts its rows in batches of 1,000 (two
# channels per applicant).
# bulk-review: 8 for both (no enrolments, no notices). One query per application would blow
# either bound at once; the single bound holds for both sizes.
# One of them asks scheduling for allocated weeks the new pupils must be seated in (a
# constant: none, whatever the number approved). One more asks billing's charge for the term's
# fee standard (none published here: nothing to charge, R11).
DECIDE_MAX_QUERIES = 15
REVIEW_MAX_QUERIES = 8


def _pupils(cast, n: int, homerooms) -> list[Student]:
    """n pupils in cast.school spread over `homerooms`, each with a guardian of their own."""
    return f.school_with_pupils(n, school=cast.school, homerooms=homerooms).students


def _applications(cast, plan, students, status: str) -> list[Application]:
    """One application per pupil, by the pupil's guardian; every other one asks for the
    afternoon slots only, the rest for all ten slots."""
    applicant = dict(GuardianStudent.objects.filter(student__in=students)
                     .values_list("student_id", "guardian__user_id"))
    now = timezone.now()
    applications = Application.objects.bulk_create([
        Application(term=cast.term, student=s, applicant_id=applicant[s.pk], plan=plan,
                    submitted_at=now, status=status)
        for s in students])
    every = list(cast.term.slots.values_list("pk", flat=True))
    afternoon = list(cast.term.slots.filter(kind="afternoon").values_list("pk", flat=True))
    Application.slots.through.objects.bulk_create([
        Application.slots.through(application_id=a.pk, serviceslot_id=slot)
        for i, a in enumerate(applications) for slot in (afternoon if i % 2 else every)])
    return applications


def _slot_pairs(through, key: str, ids) -> set[tuple[int, int]]:
    return set(through.objects.filter(**{f"{key}__in": ids})
               .values_list(key, "serviceslot_id"))


@pytest.mark.parametrize("n", [100, 1000])
def test_bulk_approval_takes_a_bounded_number_of_queries(cast, plan, api,
                                                         django_assert_max_num_queries, n):
    students = _pupils(cast, n, [cast.homeroom, cast.homeroom2])
    applications = _applications(cast, plan, students, Application.Status.CLASS_APPROVED)
    ids = [a.pk for a in applications]
    client = api(cast.principal)

    with django_assert_max_num_queries(DECIDE_MAX_QUERIES):
        response = client.post("/api/v1/applications/bulk-decide/", {"ids": ids},
                               format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"approved": n, "status": "approved"}
    assert Application.objects.filter(pk__in=ids, status="approved",
                                      decided_by=cast.principal).count() == n
    enrolments = Enrolment.objects.filter(application_id__in=ids, status="active")
    assert enrolments.count() == n
    assert set(enrolments.values_list("student_id", flat=True)) == {s.pk for s in students}
    # Each enrolment holds exactly its application's slots.
    assert _slot_pairs(Enrolment.slots.through, "enrolment__application_id", ids) == \
        _slot_pairs(Application.slots.through, "application_id", ids)
    audit = AuditEntry.objects.filter(action="enrollment.application.decided",
                                      object_id__in=[str(i) for i in ids])
    assert audit.count() == n
    assert set(audit.values_list("actor_id", "school_id")) == {(cast.principal.pk,
                                                                cast.school.pk)}
    notices = Notification.objects.filter(purpose="enrollment.decision", channel="in_app")
    applicants = {a.applicant_id for a in applications}
    assert notices.count() == n
    assert set(notices.values_list("recipient_id", flat=True)) == applicants
    assert all("已批准" in body for body in notices.values_list("body", flat=True))


@pytest.mark.parametrize("n", [100, 1000])
def test_bulk_class_review_takes_a_bounded_number_of_queries(cast, plan, api,
                                                             django_assert_max_num_queries,
                                                             n):
    students = _pupils(cast, n, [cast.homeroom])
    ids = [a.pk for a in _applications(cast, plan, students, Application.Status.SUBMITTED)]
    client = api(cast.homeroom_teacher)

    with django_assert_max_num_queries(REVIEW_MAX_QUERIES):
        response = client.post("/api/v1/applications/bulk-review/", {"ids": ids},
                               format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"reviewed": n, "status": "class_approved"}
    assert Application.objects.filter(pk__in=ids, status="class_approved",
                                      reviewed_by=cast.homeroom_teacher,
                                      reviewed_at__isnull=False).count() == n
    audit = AuditEntry.objects.filter(action="enrollment.application.reviewed",
                                      object_id__in=[str(i) for i in ids])
    assert audit.count() == n
    assert set(audit.values_list("actor_id", "school_id")) == {(cast.homeroom_teacher.pk,
                                                                cast.school.pk)}
    assert not Enrolment.objects.exists()


def test_bulk_review_with_another_classs_application_is_404_and_changes_nothing(cast, plan,
                                                                               api):
    own = _applications(cast, plan, _pupils(cast, 50, [cast.homeroom]),
                        Application.Status.SUBMITTED)
    other = _applications(cast, plan, _pupils(cast, 5, [cast.homeroom2]),
                          Application.Status.SUBMITTED)
    ids = [a.pk for a in own + other]

    response = api(cast.homeroom_teacher).post("/api/v1/applications/bulk-review/",
                                               {"ids": ids}, format="json")

    assert response.status_code == 404
    assert set(Application.objects.filter(pk__in=ids).values_list("status", flat=True)) == \
        {"submitted"}
    assert not AuditEntry.objects.filter(action="enrollment.application.reviewed").exists()
    # The other class's teacher may not approve this class's applications either.
    response = api(cast.homeroom_teacher2).post("/api/v1/applications/bulk-review/",
                                                {"ids": [own[0].pk]}, format="json")
    assert response.status_code == 404
    # Each teacher approves their own.
    for teacher, apps in ((cast.homeroom_teacher, own), (cast.homeroom_teacher2, other)):
        response = api(teacher).post("/api/v1/applications/bulk-review/",
                                     {"ids": [a.pk for a in apps]}, format="json")
        assert response.status_code == 200 and response.json()["reviewed"] == len(apps)


def test_bulk_approval_by_another_schools_principal_is_404_and_changes_nothing(cast, plan,
                                                                              api):
    ids = [a.pk for a in _applications(cast, plan, _pupils(cast, 20, [cast.homeroom]),
                                       Application.Status.CLASS_APPROVED)]
    for user in (cast.principal2, cast.homeroom_teacher, cast.officer):
        response = api(user).post("/api/v1/applications/bulk-decide/", {"ids": ids},
                                  format="json")
        assert response.status_code == 404, user
    assert set(Application.objects.filter(pk__in=ids).values_list("status", flat=True)) == \
        {"class_approved"}
    assert not Enrolment.objects.exists()
    assert not Notification.objects.filter(purpose="enrollment.decision").exists()
