"""The enrollment stage's published reads: who is in force on a day and in a slot, whose
guardians, who is on leave, and the term's current plan. The SQL form of the rule
(`enrolments_in_force`) and its Python form (`Enrolment.covers`) answer one table of cases."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from enrollment import services
from enrollment.models import Enrolment, covers_day
from enrollment.selectors import (
    enrolments_in_force,
    guardians_of_enrolled_between,
    is_enrolled_on,
    leaves_on,
    plan_current,
    slot_enrolments_in_force,
)
from schools.models import ServiceSlot
from tests import factories as f

DAY = datetime.timedelta(days=1)
MON, TUE, WED, THU, FRI, SAT = range(6)
PLAN_TEXT = dict(agreement_text="课后服务安全责任书……", complaint_phone="0356-2020123",
                 fee_standard="每生每课时 2 元", withdrawal_rule="提前 7 天书面申请",
                 safety_measures="签到签退、家长接送确认",
                 applications_open=datetime.date(2000, 1, 1),
                 applications_close=datetime.date(2100, 1, 1))


def slot(term, kind, weekday) -> ServiceSlot:
    return term.slots.get(kind=kind, weekday=weekday)


def afternoons(term) -> list[ServiceSlot]:
    return list(term.slots.filter(kind=ServiceSlot.Kind.AFTERNOON).order_by("weekday"))


def enrol(term, student, guardian_user, *, principal, reviewer=None, start=None, claims=()):
    """The child's enrolment in the term's afternoons: applied, reviewed (by the homeroom's
    head teacher unless `reviewer` is given), approved."""
    reviewer = reviewer or student.homeroom.head_teacher.user
    name = guardian_user.guardian_profile.name
    application = services.application_submit(
        applicant=guardian_user, guardian_name=name, student=student, term=term,
        slots=afternoons(term), priority_claims=list(claims),
        signature=services.SignatureInput(agreement_version=plan_current(term).version,
                                          signed_name=name))
    services.application_review(application=application, reviewer=reviewer, decision="approve")
    return services.application_decide(application=application, principal=principal,
                                       decision="approve", start_date=start).enrolment


def pupil(cast, name):
    """A new child of homeroom 2 with a guardian of its own → (child, the guardian's login)."""
    student = f.StudentFactory(school=cast.school, homeroom=cast.homeroom2, name=name)
    guardian = f.GuardianFactory()
    f.link_guardian(guardian, student)
    return student, guardian.user


@pytest.fixture
def week():
    """The Monday after next: far enough ahead for a withdrawal with a week's notice (R10)."""
    today = timezone.localdate()
    return today + datetime.timedelta(days=14 - today.weekday())


@pytest.fixture
def kids(cast, plan, week):
    """Enrolments in the term's afternoons, seen from `week`: `whole` (child, a priority claim,
    from today on), `joiner` (other_child, from the week's Wednesday), `leaver` (withdrawal
    approved effective Wednesday), `ended` (status ended) and `elsewhere` (the other school's
    term)."""
    principal = cast.principal
    whole = enrol(cast.term, cast.child, cast.parent, principal=principal, claims=["dual_working"])
    joiner = enrol(cast.term, cast.other_child, cast.parent2, principal=principal,
                   start=week + WED * DAY)
    student, leaver_parent = pupil(cast, "李想")
    leaver = enrol(cast.term, student, leaver_parent, principal=principal)
    withdrawal = services.withdrawal_request(enrolment=leaver, user=leaver_parent,
                                             effective_date=week + WED * DAY, reason="搬家")
    services.withdrawal_decide(withdrawal=withdrawal, principal=principal, approve=True)
    leaver.refresh_from_db()
    student, ended_parent = pupil(cast, "王停")
    ended = enrol(cast.term, student, ended_parent, principal=principal)
    # No end date that would exclude it: the status alone must.
    Enrolment.objects.filter(pk=ended.pk).update(status=Enrolment.Status.ENDED)
    ended.refresh_from_db()
    services.plan_publish(plan=services.plan_save_draft(term=cast.other_term,
                                                        user=cast.principal2, **PLAN_TEXT),
                          user=cast.principal2)
    other_parent = f.GuardianFactory().user
    f.link_guardian(other_parent.guardian_profile, cast.other_school_child)
    elsewhere = enrol(cast.other_term, cast.other_school_child, other_parent,
                      reviewer=cast.principal2, principal=cast.principal2)
    return SimpleNamespace(whole=whole, joiner=joiner, leaver=leaver, ended=ended,
                           elsewhere=elsewhere, leaver_parent=leaver_parent,
                           other_parent=other_parent)


A, N = ServiceSlot.Kind.AFTERNOON, ServiceSlot.Kind.NOON

# (enrolment, first day, last day (None: the first alone), slot (kind, weekday) or None,
#  in force?)
CASES = [
    ("whole", MON, None, None, True),
    ("whole", MON, None, (A, 1), True),
    ("whole", MON, FRI, (N, 1), False),  # a slot it is not enrolled in
    ("joiner", TUE, None, (A, 2), False),
    ("joiner", WED, None, (A, 3), True),  # its start date is its first day
    ("joiner", MON, TUE, None, False),
    ("joiner", MON, WED, (A, 1), True),
    ("leaver", WED, None, (A, 3), True),  # its end date is its last day
    ("leaver", THU, None, (A, 4), False),
    ("leaver", THU, FRI, None, False),
    ("leaver", WED, FRI, None, True),
    ("ended", MON, None, None, False),
    ("ended", MON, FRI, (A, 1), False),
    ("elsewhere", MON, FRI, (A, 1), False),  # another term's, asked with this term's slot
]


def case_id(case) -> str:
    name, first, last, key, _ = case
    days = "mon tue wed thu fri sat".split()
    span = days[first] + (f"-{days[last]}" if last is not None else "")
    return "-".join([name, span] + ([f"{key[0]}{key[1]}"] if key else []))


@pytest.mark.parametrize(("name", "first", "last", "slot_key", "expected"), CASES,
                         ids=[case_id(c) for c in CASES])
def test_sql_and_python_forms_agree_on_who_is_in_force(cast, kids, week, name, first, last,
                                                       slot_key, expected):
    enrolment = getattr(kids, name)
    asked = slot(cast.term, *slot_key) if slot_key else None
    start, end = week + first * DAY, (week + last * DAY if last is not None else None)
    days = [start + i * DAY for i in range(last - first + 1 if last is not None else 1)]
    assert any(enrolment.covers(day, asked) for day in days) is expected
    for form in (asked, getattr(asked, "pk", None)):
        assert enrolments_in_force(cast.term, start, end, slot=form).filter(
            pk=enrolment.pk).exists() is expected


def test_in_force_lists_this_terms_enrolments_only(cast, kids, week):
    assert set(enrolments_in_force(cast.term, week, week + FRI * DAY)) == {
        kids.whole, kids.joiner, kids.leaver}
    assert set(enrolments_in_force(cast.term, week + THU * DAY)) == {kids.whole, kids.joiner}
    assert list(enrolments_in_force(cast.other_term, week)) == [kids.elsewhere]


def test_covers_day_counts_both_ends_and_only_the_active_status():
    day = datetime.date(2026, 9, 9)
    assert covers_day("active", day, day, day)
    assert covers_day("active", day - DAY, None, day + 100 * DAY)
    assert not covers_day("active", day + DAY, None, day)
    assert not covers_day("active", day - 5 * DAY, day - DAY, day)
    assert not covers_day("ended", day - 5 * DAY, None, day)


def test_covers_reads_prefetched_slots_without_a_query(cast, kids, week,
                                                       django_assert_num_queries):
    enrolment = Enrolment.objects.prefetch_related("slots").get(pk=kids.whole.pk)
    monday_afternoon, monday_noon = slot(cast.term, A, 1), slot(cast.term, N, 1)
    with django_assert_num_queries(0):
        assert enrolment.covers(week, monday_afternoon)
        assert enrolment.covers(week, monday_afternoon.pk)
        assert not enrolment.covers(week, monday_noon.pk)


def test_slot_enrolments_count_each_slot_on_its_own_day(cast, kids, week):
    slots = list(cast.term.slots.all())
    rows = slot_enrolments_in_force(cast.term, {s.pk: week + (s.weekday - 1) * DAY
                                                for s in slots})
    by_weekday = {s.weekday: s.pk for s in afternoons(cast.term)}
    homeroom, homeroom2 = cast.homeroom.pk, cast.homeroom2.pk
    expected = (
        [(by_weekday[d], cast.child.pk, 3, homeroom, True) for d in range(1, 6)]
        + [(by_weekday[d], cast.other_child.pk, 3, homeroom2, False) for d in (3, 4, 5)]
        + [(by_weekday[d], kids.leaver.student_id, 3, homeroom2, False) for d in (1, 2, 3)])
    assert sorted(rows) == sorted(expected)


def test_slot_enrolments_use_the_date_given_for_the_slot(cast, kids, week):
    """A make-up Saturday running Monday's slot: who is in force on Saturday, not Monday."""
    monday_afternoon = slot(cast.term, A, 1).pk
    rows = slot_enrolments_in_force(cast.term, {monday_afternoon: week + SAT * DAY})
    assert {student for _, student, *_ in rows} == {cast.child.pk, cast.other_child.pk}


def test_slot_enrolments_of_some_children_in_one_query(cast, kids, week,
                                                       django_assert_num_queries):
    days = {s.pk: week + (s.weekday - 1) * DAY for s in afternoons(cast.term)}
    with django_assert_num_queries(1):
        rows = slot_enrolments_in_force(cast.term, days,
                                        students=[cast.child, kids.leaver.student_id])
    assert sorted((days[s], student) for s, student, *_ in rows) == sorted(
        [(week + d * DAY, cast.child.pk) for d in range(5)]
        + [(week + d * DAY, kids.leaver.student_id) for d in (MON, TUE, WED)])
    with django_assert_num_queries(0):
        assert slot_enrolments_in_force(cast.term, {}) == []


def test_is_enrolled_on_needs_the_slot_and_the_day(cast, kids, week):
    assert is_enrolled_on(cast.child, cast.term, week, slot(cast.term, A, 1))
    assert not is_enrolled_on(cast.child, cast.term, week, slot(cast.term, N, 1))
    assert not is_enrolled_on(cast.other_child.pk, cast.term, week + TUE * DAY,
                              slot(cast.term, A, 2).pk)
    assert is_enrolled_on(cast.other_child, cast.term, week + WED * DAY, slot(cast.term, A, 3))
    assert not is_enrolled_on(kids.leaver.student, cast.term, week + THU * DAY,
                              slot(cast.term, A, 4))
    assert not is_enrolled_on(cast.other_school_child, cast.term, week, slot(cast.term, A, 1))


def test_guardians_of_children_in_force_each_once(cast, kids, week):
    enrol(cast.term, cast.sibling, cast.parent, principal=cast.principal)
    between = guardians_of_enrolled_between
    assert sorted(u.pk for u in between(cast.term, week, week + FRI * DAY)) == sorted(
        [cast.parent.pk, cast.parent2.pk, kids.leaver_parent.pk])
    assert set(between(cast.term, week, week + TUE * DAY)) == {cast.parent, kids.leaver_parent}
    assert set(between(cast.term, week + THU * DAY)) == {cast.parent, cast.parent2}
    assert list(between(cast.other_term, week)) == [kids.other_parent]


def test_leaves_on_a_day_narrow_by_slot_and_child(cast, kids, week):
    def report(enrolment, user, day, weekday):
        return services.leave_report(enrolment=enrolment, user=user, date=week + day * DAY,
                                     slot=slot(cast.term, A, weekday), reason="看病")

    monday = report(kids.whole, cast.parent, MON, 1)
    report(kids.whole, cast.parent, TUE, 2)
    thursday = report(kids.joiner, cast.parent2, THU, 4)
    assert list(leaves_on(week)) == [monday]
    assert not leaves_on(week, slot=slot(cast.term, A, 2)).exists()
    assert list(leaves_on(week + THU * DAY, slot=slot(cast.term, A, 4).pk,
                          students=[cast.other_child.pk])) == [thursday]
    assert not leaves_on(week + THU * DAY, students=[cast.child]).exists()
    def on_leave(student, day, weekday, kind=A) -> bool:
        return leaves_on(day, slot=slot(cast.term, kind, weekday), students=[student]).exists()

    assert on_leave(cast.child, week, 1)
    assert not on_leave(cast.child, week, 1, N)
    assert not on_leave(cast.child, week + WED * DAY, 3)
    assert not on_leave(cast.other_child, week, 1)


def test_plan_current_is_the_latest_published_version(cast):
    assert plan_current(cast.term) is None
    draft = services.plan_save_draft(term=cast.term, user=cast.principal, **PLAN_TEXT)
    assert plan_current(cast.term) is None  # a draft is not disclosed (R2)
    first = services.plan_publish(plan=draft, user=cast.principal)
    assert plan_current(cast.term) == first
    draft = services.plan_save_draft(term=cast.term, user=cast.principal, fee_standard="免费")
    assert plan_current(cast.term) == first
    second = services.plan_publish(plan=draft, user=cast.principal)
    assert plan_current(cast.term) == second and second.version == 2
    assert plan_current(cast.other_term) is None
