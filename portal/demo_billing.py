"""Demo billing for `manage.py seed_demo` (POLICY.md R11, R12), all through the services:

- the primary school's fee standard for the term: 2 元 per class-hour (noon 2, afternoon 1),
  approved by the district's price bureau, which charges every enrolment (预收);
- payments for most enrolled children, by WeChat Pay, Alipay, bank transfer and cash, each with
  its receipt; a few families have not paid yet, and one mistaken payment is voided;
- three waivers for families in economic difficulty: one full (borne by the finance bureau),
  one half (the school's fund), one of a fixed amount;
- the government's subsidy of 120 元 per enrolled child for the year, with its document;
- last month's teacher payroll, drafted from the sessions served and published to staff.

Idempotent: a term with a standard, a child with a receipt or a waiver, a published month is
left alone.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from billing import payroll, services
from billing.ledger import family_balance
from billing.models import Payment, Subsidy, Waiver
from enrollment.models import Enrolment
from enrollment.selectors import fee_standards_of
from enrollment.services import fee_standard_publish
from schools.demo import PRIMARY
from schools.models import School, User
from schools.selectors import current_term

METHODS = [Payment.Method.WECHAT, Payment.Method.WECHAT, Payment.Method.ALIPAY,
           Payment.Method.BANK, Payment.Method.CASH]
UNPAID_EVERY = 9  # one family in nine has not paid yet
WAIVERS = [  # (kind, value, borne by, evidence, reason)
    ("full", None, "bureau", "城区民政局低保证 2026-0815", "最低生活保障家庭"),
    ("percent", Decimal("50"), "school", "城区总工会困难职工证 0412", "困难职工家庭"),
    ("amount", Decimal("60.00"), "school", "街道办事处困难证明 2026-031", "家庭突发变故"),
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
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    published = None
    if not payroll.Payroll.objects.filter(school=school, month=month,
                                          status=payroll.Payroll.Status.PUBLISHED).exists():
        payroll.payroll_draft(school=school, month=month, user=principal)
        published = payroll.payroll_publish(school=school, month=month, user=principal)
    result = {"term": term.pk, "enrolments": len(enrolments), "payments": payments,
              "waivers": len(WAIVERS), "payroll": str(published.total) if published else None}
    if stdout is not None:
        stdout.write(f"收费：{len(enrolments)} 名在读学生已按 2 元/课时预收；新登记缴费 "
                     f"{payments} 笔；减免 {len(WAIVERS)} 人；上月劳务费已公布。")
    return result
