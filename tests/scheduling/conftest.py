"""A school's week for the scheduling tests: the cast school's activities, next week's menu with
an item of each activity in every afternoon slot, children enrolled through the enrollment
services (so their enrolments are real), and helpers to publish the menu, close its choices
and allocate it."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from enrollment import services as enrollment
from enrollment.models import Application
from scheduling import services
from scheduling.models import Menu, MenuItem, Placement, TemporaryClass
from schools.models import GuardianStudent, ServiceSlot, Student
from tests import factories as f

# The enrollment stage's fixtures (a published plan, an approved enrolment) are this stage's
# starting point.
from tests.enrollment.conftest import (  # noqa: F401
    apply_for,
    class_approved,
    enrolment,
    plan,
    submitted,
)

# The seed of the allocation the `allocated` fixture commits.
SEED = "week-seed"


def next_monday() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday())


def afternoon(term, weekday: int) -> ServiceSlot:
    return term.slots.get(kind=ServiceSlot.Kind.AFTERNOON, weekday=weekday)


def item_of(menu: Menu, activity, weekday: int) -> MenuItem:
    """The menu's item of `activity` in the afternoon slot of `weekday`."""
    return MenuItem.objects.get(menu=menu, activity=activity, slot__weekday=weekday,
                                slot__kind=ServiceSlot.Kind.AFTERNOON)


def class_of(menu: Menu, activity, weekday: int) -> TemporaryClass:
    """The activity class of `activity` in the afternoon slot of `weekday`."""
    return TemporaryClass.objects.get(menu=menu, item__activity=activity,
                                      slot__weekday=weekday,
                                      slot__kind=ServiceSlot.Kind.AFTERNOON)


def close_choices(menu: Menu) -> Menu:
    """Move the choice deadline into the past (test setup only: no service does this)."""
    Menu.objects.filter(pk=menu.pk).update(
        choice_deadline=timezone.now() - datetime.timedelta(minutes=5))
    menu.refresh_from_db()
    return menu


@pytest.fixture
def monday():
    """The date of next week's Monday."""
    return next_monday()


@pytest.fixture
def teachers(cast):
    """Four activity teachers of the cast school (no login)."""
    return SimpleNamespace(**{
        key: f.StaffFactory(school=cast.school, user=None, name=name)
        for key, name in (("reading", "钱老师"), ("sports", "孙老师"), ("arts", "冯老师"),
                          ("crafts", "何老师"))})


@pytest.fixture
def activities(cast, teachers):
    """Picture books (grades 1 and 3, 20 seats), basketball (grade 3, 20), Chinese painting
    (grade 3, a single seat) and crafts (grade 1 only, 20). The school gets a first grade."""
    f.GradeFactory(school=cast.school, number=1)

    def make(name, category, grades, capacity, teacher, room):
        return services.activity_create(
            school=cast.school, user=cast.principal, name=name, category=category,
            grades=grades, capacity=capacity, teacher=teacher, room=room)

    return SimpleNamespace(
        reading=make("绘本阅读", "reading", [1, 3], 20, teachers.reading, "图书室"),
        sports=make("篮球", "sports", [3], 20, teachers.sports, "操场"),
        arts=make("国画", "arts", [3], 1, teachers.arts, "美术室"),
        crafts=make("低年级手工", "labour", [1], 20, teachers.crafts, "手工室"),
    )


@pytest.fixture
def menu(cast, activities, monday):
    """Next week's draft menu: each activity in each afternoon slot (20 items); choices close
    tomorrow."""
    menu = services.menu_create(school=cast.school, week=monday, user=cast.principal,
                                choice_deadline=timezone.now() + datetime.timedelta(days=1))
    for weekday in range(1, 6):
        slot = afternoon(cast.term, weekday)
        for activity in (activities.reading, activities.sports, activities.arts,
                         activities.crafts):
            services.menu_item_add(menu=menu, user=cast.principal, activity=activity, slot=slot)
    menu.refresh_from_db()
    return menu


@pytest.fixture
def enrol(cast, plan):  # noqa: F811
    """enrol(student, guardian_user, weekdays=1..5, claims=()) → the student's enrolment in
    those afternoon slots: applied, class-approved and approved through the services."""

    def make(student, guardian_user, *, weekdays=range(1, 6), claims=()):
        name = guardian_user.guardian_profile.name
        application = enrollment.application_submit(
            applicant=guardian_user, guardian_name=name, student=student, term=cast.term,
            slots=[afternoon(cast.term, d) for d in weekdays], priority_claims=list(claims),
            signature=enrollment.SignatureInput(agreement_version=plan.version,
                                                signed_name=name))
        head = student.homeroom.head_teacher
        reviewer = head.user if head is not None and head.user else cast.homeroom_teacher
        enrollment.application_review(application=application, reviewer=reviewer,
                                      decision="approve")
        application = enrollment.application_decide(application=application,
                                                     principal=cast.principal,
                                                     decision="approve")
        return application.enrolment

    return make


@pytest.fixture
def enrolled(cast, enrol):
    """`child` (a priority claim) and `sibling` every afternoon; `other_child` Monday to
    Thursday afternoons only."""
    return SimpleNamespace(
        child=enrol(cast.child, cast.parent, claims=["dual_working"]),
        sibling=enrol(cast.sibling, cast.parent),
        other_child=enrol(cast.other_child, cast.parent2, weekdays=range(1, 5)),
    )


@pytest.fixture
def published(cast, menu, enrolled):
    """The menu, published (its short-day warnings acknowledged) with the children enrolled."""
    return services.menu_publish(menu=menu, user=cast.principal, acknowledge_warnings=True)


@pytest.fixture
def monday_choices(cast, published, activities):
    """Monday afternoon's rankings, with a single optimum whatever the seed: other_child asks
    only for Chinese painting (one seat); the priority child ranks painting then basketball;
    sibling painting, picture books, basketball. Painting goes to other_child (the only way
    nobody is left out), child and sibling get their second choice."""
    slot = afternoon(cast.term, 1)
    arts, sports, reading = (item_of(published, a, 1)
                             for a in (activities.arts, activities.sports, activities.reading))
    for student, user, ranked in ((cast.child, cast.parent, [arts, sports]),
                                  (cast.sibling, cast.parent, [arts, reading, sports]),
                                  (cast.other_child, cast.parent2, [arts])):
        services.choices_set(menu=published, student=student, slot=slot, user=user,
                             items=ranked)
    return published


@pytest.fixture
def allocated(cast, monday_choices):
    """The menu after its deadline, allocated (committed) with `SEED`: on Monday other_child
    sits in painting, child in basketball, sibling in picture books; study halls on the other
    afternoons."""
    menu = close_choices(monday_choices)
    services.menu_allocate(menu=menu, user=cast.principal, seed=SEED)
    menu.refresh_from_db()
    return menu


@pytest.fixture
def late_joiners(cast, plan):  # noqa: F811
    """late_joiners(n) → n new third-graders of the cast school, each with a guardian of their
    own, enrolled now in every afternoon slot (bulk review and bulk approval services). An
    approval seats them in their grade's study halls of an allocated week; with `seated=False`
    those seats are taken away again, as if the study halls had been full (the children wait
    for the principal to place them)."""

    def make(n: int, seated: bool = False) -> list[Student]:
        pupils = f.school_with_pupils(n, school=cast.school,
                                      homerooms=[cast.homeroom, cast.homeroom2],
                                      name="插班生", relation=GuardianStudent.Relation.FATHER)
        students, users = pupils.students, pupils.users
        now = timezone.now()
        applications = Application.objects.bulk_create([
            Application(term=cast.term, student=s, applicant=u, plan=plan, submitted_at=now)
            for s, u in zip(students, users, strict=True)])
        slots = list(cast.term.slots.filter(kind=ServiceSlot.Kind.AFTERNOON))
        Application.slots.through.objects.bulk_create([
            Application.slots.through(application_id=a.pk, serviceslot_id=slot.pk)
            for a in applications for slot in slots])
        enrollment.application_review_bulk(applications=applications,
                                           reviewer=cast.homeroom_teacher)
        enrollment.application_decide_bulk(applications=applications, principal=cast.principal)
        if not seated:
            Placement.objects.filter(student__in=students,
                                     source=Placement.Source.JOINED).delete()
        return students

    return make
