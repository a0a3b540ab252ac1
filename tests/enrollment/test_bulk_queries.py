"""A whole school's approvals in one request: the number of queries does not grow with the
number of applications (bulk updates and inserts, no query per application)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.models import Application, Enrolment
from notifications.models import Notification
from schools.models import AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def _class_approved(cast, plan, n: int) -> list[int]:
    pupils = f.school_with_pupils(n, school=cast.school, homerooms=[cast.homeroom])
    now = timezone.now()
    applications = Application.objects.bulk_create([
        Application(term=cast.term, student=s, applicant=u, plan=plan,
                    submitted_at=now, status=Application.Status.CLASS_APPROVED)
        for s, u in zip(pupils.students, pupils.users, strict=True)])
    slots = list(cast.term.slots.values_list("pk", flat=True))
    Application.slots.through.objects.bulk_create([
        Application.slots.through(application_id=a.pk, serviceslot_id=slot)
        for a in applications for slot in slots])
    return [a.pk for a in applications]


def _bulk_decide_queries(cast, api, ids) -> int:
    client = api(cast.principal)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/applications/bulk-decide/", {"ids": ids},
                               format="json")
    assert response.status_code == 200, response.content
    assert response.json()["approved"] == len(ids)
    return len(queries)


def test_bulk_approving_1000_applications_takes_a_bounded_number_of_queries(cast, plan, api):
    small = _bulk_decide_queries(cast, api, _class_approved(cast, plan, 100))
    ids = _class_approved(cast, plan, 1000)
    large = _bulk_decide_queries(cast, api, ids)

    # Ten times the applications: at most a few more INSERT batches (1,000 rows each), never a
    # query per application.
    assert large - small <= 3
    assert large <= 20
    assert Enrolment.objects.filter(application_id__in=ids, status="active").count() == 1000
    assert Enrolment.slots.through.objects.filter(
        enrolment__application_id__in=ids).count() == 1000 * cast.term.slots.count()
    assert AuditEntry.objects.filter(action="enrollment.application.decided",
                                     object_id__in=[str(i) for i in ids]).count() == 1000
    assert Notification.objects.filter(purpose="enrollment.decision",
                                       channel="in_app").count() == 1100
