"""Two submissions for one child at the same moment, on real PostgreSQL: the partial unique
index decides, so exactly one application is open and the other caller gets 409."""

import threading

import pytest
from django.db import connection

from enrollment import services
from enrollment.models import Application, Signature
from schools.errors import Conflict

pytestmark = pytest.mark.django_db(transaction=True)


def _race(cast, plan) -> list[str]:
    slots = list(cast.term.slots.filter(kind="noon"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit():
        try:
            barrier.wait(timeout=10)
            services.application_submit(
                applicant=cast.parent, guardian_name="张伟", student=cast.child,
                term=cast.term, slots=slots, priority_claims=[],
                signature=services.SignatureInput(agreement_version=plan.version,
                                                  signed_name="张伟"))
            outcomes.append("created")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_two_simultaneous_applications_leave_one_open(cast, plan):
    outcomes = _race(cast, plan)
    assert sorted(outcomes) == ["already_open", "created"]
    assert Application.objects.filter(student=cast.child).count() == 1


def test_control_without_the_index_both_get_through(cast, plan):
    """Shows the test above would catch the race: without the index, two open applications."""
    index = "application_one_open_per_student_term"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {index}")
    try:
        outcomes = _race(cast, plan)
        assert outcomes == ["created", "created"]
        assert Application.objects.filter(student=cast.child).count() == 2
    finally:
        Signature.objects.filter(application__student=cast.child).delete()
        Application.objects.filter(student=cast.child).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE UNIQUE INDEX {index} ON enrollment_application (student_id, term_id) "
                "WHERE status IN ('submitted', 'class_approved', 'returned')")
