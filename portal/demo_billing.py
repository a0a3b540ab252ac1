"""Demo billing for `manage.py seed_demo` (POLICY.md R11, R12), all through the services:

- the primary school's fee standard for the term: 2 元 per class-hour (noon 2, afternoon 1),
  approved by the district's price bureau, which charges every enrolment (预收);
- payments for most enrolled children, by WeChat Pay, Alipay, bank transfer and cash, each with
  its receipt; a few families have not paid yet, and one mistaken payment is voided;
- three waivers for families in economic difficulty: one full (borne by the finance bureau),
  one half (the school's fund), one of a fixed amount;
- the government's subsidy of 120 元 per enrolled child for the year, with its document, and
  three payments out of the dedicated account (consumables, a purchased course, an external
  coach);
- last month's teacher payroll, drafted from the sessions served and published to staff, and
  this month's draft so far;
- the previous term, as it happened (the services run with their clock set to each moment):
  its calendar and plan, a hundred and twenty children applying, reviewed and approved from its
  first day, their fee standard, payments, leave through the term and two withdrawals, then the
  settlement after its last day, with refunds (half of them paid out) and top-ups.

Idempotent: a term with a standard, a child with a receipt or a waiver, a published month is
left alone.
"""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from billing import payroll, services, settlement
from billing.ledger import family_balance
from billing.models import Expense, Payment, Settlement, Subsidy, Waiver
from enrollment import services as enrollment_services
from enrollment.demo import ensure_plan, guardians_by_student
from enrollment.models import Enrolment
from enrollment.selectors import fee_standards_of
from enrollment.services import fee_standard_publish
from portal.demo_attendance import at, clock_at
from schools.demo import PRIMARY, ensure_holidays, ensure_slots, semester_name
from schools.models import School, Student, Term, User
from schools.selectors import current_term, service_days

METHODS = [Payment.Method.WECHAT, Payment.Method.WECHAT, Payment.Method.ALIPAY,
           Payment.Method.BANK, Payment.Method.CASH]
UNPAID_EVERY = 9  # one family in nine has not paid yet
WAIVERS = [  # (kind, value, borne by, evidence, reason)
    ("full", None, "bureau", "城区民政局低保证 2026-0815", "最低生活保障家庭"),
    ("percent", Decimal("50"), "school", "城区总工会困难职工证 0412", "困难职工家庭"),
    ("amount", Decimal("60.00"), "school", "街道办事处困难证明 2026-031", "家庭突发变故"),
]

EXPENSES = [  # (category, amount, payee, what, invoice or contract)
    ("5003", "2360.00", "示范区文化用品商店", "美术、手工耗材", "发票 14000231"),
    ("5004", "9800.00", "示范区青少年科技中心", "编程启蒙课程（一学期）", "合同 KH-2026-07"),
    ("5002", "4200.00", "示范区体育运动学校", "校外足球教练课时费（9–10 月）", "合同 KH-2026-03"),
]


def seed(*, stdout=None) -> dict:
    school = School.objects.filter(code=PRIMARY.code).first()
    today = timezone.localdate()
    term = current_term(school.pk, today) if school else None
    if term is None:
        return {}
    principal = User.objects.get(username="principal")
    finance = User.objects.get(username="finance")
    if not fee_standards_of(term):
        fee_standard_publish(term=term, user=principal, mode="per_hour", rate=Decimal("2.00"),
                             effective_from=term.start, approved_by="城区发展和改革局",
                             approval_ref="城发改价〔2026〕18号")
    enrolments = list(Enrolment.objects.filter(term=term).select_related("student")
                      .order_by("student_id"))
    waived = set(Waiver.objects.filter(term=term).values_list("student_id", flat=True))
    for (kind, value, borne_by, evidence, reason), e in zip(WAIVERS, enrolments[3:6],
                                                            strict=False):
        if e.student_id not in waived:
            services.waiver_grant(user=principal, student=e.student, term=term, kind=kind,
                                  value=value, reason=reason, borne_by=borne_by,
                                  evidence=evidence)
    paid = set(Payment.objects.filter(term=term).values_list("student_id", flat=True))
    payments = 0
    for i, e in enumerate(enrolments):
        if e.student_id in paid or i % UNPAID_EVERY == UNPAID_EVERY - 1:
            continue
        owed = family_balance(e.student_id, term.pk)
        if owed <= 0:
            continue
        method = METHODS[i % len(METHODS)]
        reference = "" if method == Payment.Method.CASH else f"DEMO{term.pk:03d}{e.pk:08d}"
        services.payment_record(user=finance, key=f"demo-{term.pk}-{e.pk}", student=e.student,
                                term=term, amount=owed, method=method, reference=reference)
        payments += 1
    # One payment recorded twice by mistake, and voided.
    if enrolments and not Payment.objects.filter(term=term, kind=Payment.Kind.VOID).exists():
        first = enrolments[0]
        reply = services.payment_record(
            user=finance, key=f"demo-{term.pk}-dup", student=first.student, term=term,
            amount=Decimal("20.00"), method=Payment.Method.CASH)
        services.payment_void(payment=Payment.objects.get(pk=reply.body["id"]), user=finance,
                              reason="重复登记")
    if not Subsidy.objects.filter(school=school).exists() and enrolments:
        services.subsidy_record(
            user=finance, key=f"demo-subsidy-{term.pk}", school_id=school.pk, kind="subsidy",
            amount=Decimal("120.00") * len(enrolments), term=term,
            source_document="城财教〔2026〕45号 课后服务财政补助",
            basis=f"{len(enrolments)} 人 × 120 元/生·年", received_on=term.start)
    if not Expense.objects.filter(school=school).exists():
        for i, (category, amount, payee, what, document) in enumerate(EXPENSES):
            services.expense_record(user=finance, key=f"demo-expense-{school.pk}-{i}",
                                    school_id=school.pk, category=category,
                                    amount=Decimal(amount), payee=payee, description=what,
                                    document=document, paid_on=term.start + datetime.timedelta(
                                        days=14 * (i + 1)))
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    published = None
    if not payroll.Payroll.objects.filter(school=school, month=month,
                                          status=payroll.Payroll.Status.PUBLISHED).exists():
        payroll.payroll_draft(school=school, month=month, user=principal)
        published = payroll.payroll_publish(school=school, month=month, user=principal)
    # This month's draft, from the sessions served so far (the demo's history is recent).
    this_month = today.replace(day=1)
    if not payroll.Payroll.objects.filter(school=school, month=this_month).exists():
        payroll.payroll_draft(school=school, month=this_month, user=principal)
    previous = seed_previous_term(school, principal, finance, term)
    result = {"term": term.pk, "enrolments": len(enrolments), "payments": payments,
              "waivers": len(WAIVERS), "payroll": str(published.total) if published else None,
              "previous": previous}
    if stdout is not None:
        stdout.write(f"收费：{len(enrolments)} 名在读学生已按 2 元/课时预收；新登记缴费 "
                     f"{payments} 笔；减免 {len(WAIVERS)} 人；上月劳务费已公布。")
        if previous:
            stdout.write(f"上学期（{previous['name']}）：{previous['enrolments']} 人，已结算，"
                         f"退费 {previous['refunds']} 笔，待补缴 {previous['top_ups']} 人。")
    return result


PREVIOUS_PUPILS = 120


def _previous_dates(current: Term) -> tuple[str, datetime.date, datetime.date]:
    """The semester before the current term: about eighteen weeks ending seven weeks before
    it."""
    end = current.start - datetime.timedelta(days=50)
    start = end - datetime.timedelta(days=130)
    return semester_name(start + datetime.timedelta(days=30)), start, end


def seed_previous_term(school: School, principal: User, finance: User, current: Term
                       ) -> dict | None:
    name, start, end = _previous_dates(current)
    term, _created = Term.objects.get_or_create(school=school, name=name, defaults={
        "start": start, "end": end, "excluded_weekdays": []})
    if Settlement.objects.filter(term=term).exists() or term.end >= timezone.localdate():
        return None
    ensure_holidays(term)
    ensure_slots(term)
    rng = random.Random(f"previous-{school.code}")
    before = term.start - datetime.timedelta(days=20)
    with clock_at(at(before, datetime.time(9, 0))):
        plan, _new = ensure_plan(term, principal, before)
        if not fee_standards_of(term):
            fee_standard_publish(term=term, user=principal, mode="per_hour",
                                 rate=Decimal("2.00"), effective_from=term.start,
                                 approved_by="城区发展和改革局", approval_ref="城发改价〔2026〕3号")
    guardians = guardians_by_student(school)
    pupils = [p for p in Student.objects.filter(school=school, pk__in=list(guardians))
              .select_related("homeroom__head_teacher__user").order_by("pk")
              if p.homeroom and p.homeroom.head_teacher and p.homeroom.head_teacher.user]
    pupils = pupils[:PREVIOUS_PUPILS]
    afternoons = list(term.slots.filter(kind="afternoon"))
    noons = list(term.slots.filter(kind="noon"))
    with clock_at(at(before + datetime.timedelta(days=3), datetime.time(20, 0))):
        applications = []
        for p in pupils:
            user, guardian_name = guardians[p.pk]
            slots = afternoons + (noons if rng.random() < 0.3 else [])
            applications.append(enrollment_services.application_submit(
                applicant=user, guardian_name=guardian_name, student=p, term=term,
                slots=slots, priority_claims=[], signature=enrollment_services.SignatureInput(
                    agreement_version=plan.version, signed_name=guardian_name,
                    ip_address="127.0.0.1", user_agent="seed_demo")))
    with clock_at(at(before + datetime.timedelta(days=6), datetime.time(10, 0))):
        by_head: dict[int, list] = {}
        for p, a in zip(pupils, applications, strict=True):
            by_head.setdefault(p.homeroom.head_teacher.user.pk, []).append(a)
        for head_id, group in by_head.items():
            enrollment_services.application_review_bulk(
                applications=group, reviewer=User.objects.get(pk=head_id))
    with clock_at(at(before + datetime.timedelta(days=10), datetime.time(10, 0))):
        enrollment_services.application_decide_bulk(
            applications=applications, principal=principal, start_date=term.start)
    enrolments = list(Enrolment.objects.filter(term=term).select_related("student")
                      .prefetch_related("slots").order_by("pk"))
    # Payments in the term's second week, most in full; a few families never paid.
    with clock_at(at(term.start + datetime.timedelta(days=9), datetime.time(15, 0))):
        for i, e in enumerate(enrolments):
            if i % 12 == 11:
                continue
            owed = family_balance(e.student_id, term.pk)
            method = METHODS[i % len(METHODS)]
            services.payment_record(
                user=finance, key=f"demo-prev-{term.pk}-{e.pk}", student=e.student, term=term,
                amount=owed, method=method,
                reference="" if method == Payment.Method.CASH else f"P{term.pk:03d}{e.pk:08d}")
    # Leave through the term, reported by the guardian the evening before.
    days = service_days(term)
    for e in enrolments[::3]:
        slot = rng.choice(list(e.slots.all()))
        day = rng.choice([d.date for d in days if d.weekday == slot.weekday])
        with clock_at(at(day - datetime.timedelta(days=1), datetime.time(20, 0))):
            enrollment_services.leave_report(enrolment=e, user=guardians[e.student_id][0],
                                             date=day, slot=slot, reason="发烧请假")
    # Two families withdrew half-way, with the week's notice.
    middle = term.start + (term.end - term.start) / 2
    for e in enrolments[5:7]:
        with clock_at(at(middle - datetime.timedelta(days=10), datetime.time(19, 0))):
            w = enrollment_services.withdrawal_request(
                enrolment=e, user=guardians[e.student_id][0], effective_date=middle,
                reason="家中有老人接送，不再参加")
        with clock_at(at(middle - datetime.timedelta(days=9), datetime.time(9, 0))):
            enrollment_services.withdrawal_decide(withdrawal=w, principal=principal,
                                                  approve=True)
    settled = settlement.term_settle(term=term, user=principal)
    for refund in settled.refunds[::2]:
        settlement.refund_done(refund=refund, user=finance,
                               reference=f"RF{refund.out_refund_no[-8:]}")
    return {"name": term.name, "enrolments": len(enrolments), "refunds": len(settled.refunds),
            "top_ups": len(settled.top_ups)}
