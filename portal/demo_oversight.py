"""Demo for the district's dashboard (`manage.py seed_demo`): the district's other schools
enrolled through the services, each with its own shape, so the dashboard tells a story:

- 东山小学 meets everything: nearly every pupil enrolled on all five weekdays, its fee standard
  published (2 元 per class-hour), the afternoon ending at 18:00;
- 第一初级中学 is under 90% and ends too early (its afternoon ends at 17:00, before the local
  off-work time);
- 西湖小学 serves nearly every pupil but has not published a fee standard;
- 实验小学 (the enrollment demo's school) is under 90% with everything else in order.

Idempotent: a pupil with an application is left alone; a standard is published once.
"""

from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from enrollment import services as enrollment
from enrollment.demo import ensure_plan, guardians_by_student
from enrollment.models import Application
from enrollment.selectors import fee_standards_of
from schools.demo import MIDDLE, SMALL, WEST
from schools.models import Membership, Role, School, ServiceSlot, Student, User
from schools.selectors import current_term

EARLY_END = "17:00"
SHAPES = [  # (school, share of pupils enrolled, publish a fee standard, afternoon ends early)
    (SMALL.code, Decimal("0.96"), True, False),
    (MIDDLE.code, Decimal("0.62"), True, True),
    (WEST.code, Decimal("0.95"), False, False),
]


def _principal(school: School) -> User:
    """The school's principal; one without a demo login is made for it (no password)."""
    member = (Membership.objects.filter(school=school, role=Role.PRINCIPAL)
              .select_related("user").first())
    if member is not None:
        return member.user
    user, _new = User.objects.get_or_create(
        username=f"{school.code.lower()}-principal",
        defaults={"display_name": f"{school.name}校长", "password": make_password(None)})
    Membership.objects.get_or_create(user=user, role=Role.PRINCIPAL, school=school)
    return user


def _shape(school: School, share: Decimal, fee: bool, early: bool) -> int:
    today = timezone.localdate()
    term = current_term(school.pk, today)
    if term is None:
        return 0
    principal = _principal(school)
    if early:
        ServiceSlot.objects.filter(term=term, kind=ServiceSlot.Kind.AFTERNOON).update(
            end=EARLY_END)
    plan, _new = ensure_plan(term, principal, today)
    if fee and not fee_standards_of(term):
        enrollment.fee_standard_publish(term=term, user=principal, mode="per_hour",
                                        rate=Decimal("2.00"), effective_from=term.start,
                                        approved_by="示范区发展和改革局",
                                        approval_ref="示发改价〔2026〕9号")
    if not plan.takes_applications_on(today):
        return 0
    guardians = guardians_by_student(school)
    have = set(Application.objects.filter(term=term).values_list("student_id", flat=True))
    pupils = [p for p in Student.objects.filter(school=school, active=True, boarding=False)
              .select_related("homeroom__head_teacher__user").order_by("student_no")
              if p.pk in guardians and p.homeroom and p.homeroom.head_teacher
              and p.homeroom.head_teacher.user]
    wanted = pupils[:int(len(pupils) * share)]
    afternoons = list(term.slots.filter(kind=ServiceSlot.Kind.AFTERNOON))
    made = []
    for p in wanted:
        if p.pk in have:
            continue
        user, name = guardians[p.pk]
        made.append((p, enrollment.application_submit(
            applicant=user, guardian_name=name, student=p, term=term, slots=afternoons,
            priority_claims=[], signature=enrollment.SignatureInput(
                agreement_version=plan.version, signed_name=name, ip_address="127.0.0.1",
                user_agent="seed_demo"))))
    by_head: dict[int, list] = {}
    for p, application in made:
        by_head.setdefault(p.homeroom.head_teacher.user_id, []).append(application)
    for head_id, group in by_head.items():
        enrollment.application_review_bulk(applications=group,
                                           reviewer=User.objects.get(pk=head_id))
    if made:
        enrollment.application_decide_bulk(applications=[a for _p, a in made],
                                           principal=principal, start_date=term.start)
    return len(made)


def seed(*, stdout=None) -> dict:
    enrolled = {}
    for code, share, fee, early in SHAPES:
        school = School.objects.filter(code=code).first()
        if school is not None:
            enrolled[code] = _shape(school, share, fee, early)
    if stdout is not None and enrolled:
        stdout.write("区域概况：" + "；".join(f"{code} 新增在读 {n} 人"
                                         for code, n in enrolled.items()))
    return enrolled
