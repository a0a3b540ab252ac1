"""A session to work in: next week's allocated menu (the scheduling stage's fixtures), the
Monday basketball session where `child` sits, served by `teacher` as the principal's
substitute; helpers to post as the session's teacher."""

import uuid
from types import SimpleNamespace

import pytest

from attendance import services
from attendance.models import ClassSession
from tests.scheduling.conftest import (  # noqa: F401
    activities,
    allocated,
    apply_for,
    class_approved,
    class_of,
    enrol,
    enrolled,
    enrolment,
    late_joiners,
    menu,
    monday,
    monday_choices,
    plan,
    published,
    submitted,
    teachers,
)


@pytest.fixture
def session(cast, allocated, activities):  # noqa: F811
    cls = class_of(allocated, activities.sports, 1)
    s = ClassSession.objects.get(temporary_class=cls)
    return services.session_set_teacher(session=s, teacher=cast.teacher.staff_profile,
                                        user=cast.principal, reason="代课")


@pytest.fixture
def tablet(api, cast, session):
    """tablet.post(path, body) as the session's teacher, each body with a fresh client_id
    unless given."""
    client = api(cast.teacher)

    def post(suffix, body, **extra):
        body = {"client_id": str(uuid.uuid4()), **body}
        for mark in body.get("marks", []):
            mark.setdefault("client_id", str(uuid.uuid4()))
        return client.post(f"/api/v1/sessions/{session.pk}/{suffix}", body, format="json",
                           **extra)

    return SimpleNamespace(client=client, post=post)
