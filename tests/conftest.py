"""The cast every test draws on, and the rule that under REQUIRE_SERVICES=1 nothing skips."""

import os
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from schools.models import Role, ServiceSlot
from tests import factories as f

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def require_service(available: bool, reason: str) -> None:
    """Skip a test whose service is missing — or fail it when CI promised the services."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_SERVICES:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and reporter.stats.get("skipped"):
            reporter.write_line(
                "REQUIRE_SERVICES=1: a test was skipped; every service must be available.",
                red=True)
            session.exitstatus = 1


@pytest.fixture(autouse=True)
def _forget_expected_children():
    """Each test starts with no class lists kept in memory (attendance.selectors keeps them a
    few seconds per session; ids are reused across tests once tables are flushed)."""
    from attendance.selectors import expected_forget

    expected_forget()
    yield
    expected_forget()


@pytest.fixture
def cast(db):
    """Two districts; in the first, school A (the cast's own) and school B (another school);
    school C in the other district. Guardians, teachers and officers as STYLE.md names them."""
    district = f.DistrictFactory(name="城区教育局")
    other_district = f.DistrictFactory(name="郊区教育局")
    school = f.SchoolFactory(district=district, name="实验小学")
    other_school = f.SchoolFactory(district=district, name="育才小学")
    far_school = f.SchoolFactory(district=other_district, name="郊区中学",
                                 stage="middle")

    term = f.TermFactory(school=school, name="2026秋季学期")
    other_term = f.TermFactory(school=other_school, name="2026秋季学期")
    far_term = f.TermFactory(school=far_school, name="2026秋季学期")
    for t in (term, other_term, far_term):
        for weekday in range(1, 6):
            f.ServiceSlotFactory(term=t, kind=ServiceSlot.Kind.NOON, weekday=weekday,
                                 start="11:40", end="14:10")
            f.ServiceSlotFactory(term=t, kind=ServiceSlot.Kind.AFTERNOON, weekday=weekday)

    homeroom_user = f.UserFactory(username="homeroom", display_name="王老师")
    homeroom2_user = f.UserFactory(username="homeroom2", display_name="李老师")
    head = f.StaffFactory(school=school, user=homeroom_user)
    head2 = f.StaffFactory(school=school, user=homeroom2_user)
    homeroom = f.HomeroomFactory(school=school, grade=f.GradeFactory(school=school, number=3),
                                 name="1班", head_teacher=head)
    homeroom2 = f.HomeroomFactory(school=school, grade=homeroom.grade, name="2班",
                                  head_teacher=head2)
    other_homeroom = f.HomeroomFactory(school=other_school, name="1班")
    far_homeroom = f.HomeroomFactory(school=far_school, name="1班",
                                     grade=f.GradeFactory(school=far_school, number=7))
    f.grant(homeroom_user, Role.HOMEROOM_TEACHER, school=school)
    f.grant(homeroom2_user, Role.HOMEROOM_TEACHER, school=school)

    child = f.StudentFactory(school=school, homeroom=homeroom, name="张小明")
    sibling = f.StudentFactory(school=school, homeroom=homeroom2, name="张小红")
    other_child = f.StudentFactory(school=school, homeroom=homeroom2, name="刘洋")
    other_school_child = f.StudentFactory(school=other_school, homeroom=other_homeroom)
    far_child = f.StudentFactory(school=far_school, homeroom=far_homeroom)

    guardian = f.GuardianFactory(user=f.UserFactory(username="parent", display_name="张伟"))
    f.link_guardian(guardian, child)
    f.link_guardian(guardian, sibling)
    guardian2 = f.GuardianFactory(user=f.UserFactory(username="parent2", display_name="刘芳"))
    f.link_guardian(guardian2, other_child)

    teacher = f.UserFactory(username="teacher", display_name="赵老师")
    f.StaffFactory(school=school, user=teacher)
    f.grant(teacher, Role.TEACHER, school=school)
    principal = f.UserFactory(username="principal", display_name="陈校长")
    f.grant(principal, Role.PRINCIPAL, school=school)
    principal2 = f.UserFactory(username="principal2", display_name="周校长")
    f.grant(principal2, Role.PRINCIPAL, school=other_school)
    finance = f.UserFactory(username="finance", display_name="孙会计")
    f.grant(finance, Role.FINANCE, school=school)
    officer = f.UserFactory(username="district", display_name="吴科长")
    f.grant(officer, Role.DISTRICT, district=district)
    officer2 = f.UserFactory(username="district2", display_name="郑科长")
    f.grant(officer2, Role.DISTRICT, district=other_district)

    return SimpleNamespace(
        district=district, other_district=other_district,
        school=school, other_school=other_school, far_school=far_school,
        term=term, other_term=other_term, far_term=far_term,
        homeroom=homeroom, homeroom2=homeroom2, other_homeroom=other_homeroom,
        far_homeroom=far_homeroom,
        child=child, sibling=sibling, other_child=other_child,
        other_school_child=other_school_child, far_child=far_child,
        guardian=guardian, guardian2=guardian2,
        parent=guardian.user, parent2=guardian2.user,
        homeroom_teacher=homeroom_user, homeroom_teacher2=homeroom2_user,
        teacher=teacher, principal=principal, principal2=principal2, finance=finance,
        officer=officer, officer2=officer2,
    )


@pytest.fixture
def api():
    """api(user) → an APIClient logged in as that user (or anonymous with None)."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


DEMO_PASSWORD = "pw-12345-x"


@pytest.fixture(scope="module")
def demo_once(django_db_setup, django_db_blocker):
    """`seed_demo` run once for a whole module, inside a transaction rolled back after its
    last test; each test (with `db`) runs in a savepoint of it, so what one test changes the
    next does not see. Seeding takes most of a minute: once per module, not once per test.
    Yields what the command printed."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", password=DEMO_PASSWORD, stdout=out)
        try:
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
