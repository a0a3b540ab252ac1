"""A school whose term ended yesterday, at any size, written in bulk: for the settlement's
pinned query count and for bench/settlement.py.

`ended_school(n)`: n pupils enrolled from the term's start in every slot (noon and afternoon,
Monday to Friday), charged through the fee standard's publication (2 元 per class-hour, as an
approval charges), most of them paid in full (receipts and journal entries written in bulk, as
the payment service writes them), one slot-day in `leave_every` on leave, one child in
`withdraw_every` withdrawn half-way through the term."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.db.models import Sum
from django.utils import timezone

from billing import ledger
from billing.models import Account, JournalEntry, JournalLine, NumberSeries, Payment
from enrollment import services as enrollment
from enrollment.models import Application, Enrolment, Leave
from schools.models import GuardianStudent, Role, Term
from schools.selectors import slot_dates
from tests.factories import UserFactory, grant, school_with_pupils

TERM_DAYS = 140


def _enrol(term, plan, students, slots) -> list[Enrolment]:
    applicant = dict(GuardianStudent.objects.filter(student__in=students)
                     .values_list("student_id", "guardian__user_id"))
    now = timezone.now()
    applications = Application.objects.bulk_create([
        Application(term=term, student=s, applicant_id=applicant[s.pk], plan=plan,
                    submitted_at=now, status=Application.Status.APPROVED) for s in students])
    enrolments = Enrolment.objects.bulk_create([
        Enrolment(term=term, student_id=a.student_id, application=a, start_date=term.start)
        for a in applications])
    Enrolment.slots.through.objects.bulk_create([
        Enrolment.slots.through(enrolment_id=e.pk, serviceslot_id=slot.pk)
        for e in enrolments for slot in slots])
    return enrolments


def _leave(term, enrolments, slots, every: int, user) -> int:
    dates = slot_dates(term, slots=slots)
    rows, i = [], 0
    for e in enrolments:
        for slot in slots:
            for day in dates[slot.pk]:
                i += 1
                if i % every == 0:
                    rows.append(Leave(student_id=e.student_id, enrolment=e, date=day, slot=slot,
                                      reason="病假", reported_by=user))
    Leave.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def pay_in_bulk(term, enrolments, user, *, skip_every: int = 10) -> int:
    """Each enrolment's balance paid by WeChat Pay, but one in `skip_every`: the payment
    service's entries and receipts, written in a few statements."""
    owed = {row["student_id"]: row["d"] - row["c"] for row in JournalLine.objects.filter(
        entry__term=term, account=Account.FAMILIES).values("student_id").annotate(
        d=Sum("debit"), c=Sum("credit"))}
    payers = [e for i, e in enumerate(enrolments)
              if i % skip_every != skip_every - 1 and owed.get(e.student_id, 0) > 0]
    today = timezone.localdate()
    first = ledger.next_number(term.school_id, NumberSeries.Series.RECEIPT, today.year,
                               len(payers))
    entries = ledger.post_many(school=term.school_id, user=user, postings=[
        ledger.Posting(kind=JournalEntry.Kind.PAYMENT, term=term,
                       source=f"receipt:{term.school_id}:{today.year}:{first + i}",
                       memo=f"收课后服务费，收据 {today.year}{first + i:06d}",
                       lines=[ledger.debit(Account.CLEARING, owed[e.student_id]),
                              ledger.credit(Account.FAMILIES, owed[e.student_id],
                                            e.student_id)])
        for i, e in enumerate(payers)])
    Payment.objects.bulk_create([
        Payment(school_id=term.school_id, term=term, student_id=e.student_id,
                amount=owed[e.student_id], method=Payment.Method.WECHAT,
                reference=f"S{term.pk}-{e.pk}", receipt_year=today.year,
                receipt_number=first + i, entry=entry, received_by=user,
                received_at=timezone.now())
        for i, (e, entry) in enumerate(zip(payers, entries, strict=True))], batch_size=5000)
    return len(payers)


def ended_school(n: int, *, tag: str, leave_every: int = 50, withdraw_every: int = 40,
                 pay: bool = True) -> SimpleNamespace:
    today = timezone.localdate()
    pupils = school_with_pupils(n, tag=tag, grades=[3], homerooms_per_grade=max(1, n // 45),
                                phone_prefix=f"S{tag[-6:]}-")
    Term.objects.filter(pk=pupils.term.pk).update(
        start=today - datetime.timedelta(days=TERM_DAYS), end=today - datetime.timedelta(days=1))
    term = Term.objects.select_related("school").get(pk=pupils.term.pk)
    principal = pupils.principal
    finance = UserFactory(username=f"{tag.lower()}-finance")
    grant(finance, Role.FINANCE, school=term.school)
    plan = enrollment.plan_publish(plan=enrollment.plan_save_draft(
        term=term, user=principal, agreement_text="课后服务安全责任书",
        complaint_phone="0000-0000000", fee_standard="每生每课时 2 元",
        withdrawal_rule="提前 7 天书面申请", safety_measures="点名、签到签退",
        applications_open=term.start - datetime.timedelta(days=20),
        applications_close=term.start - datetime.timedelta(days=5)), user=principal)
    slots = list(term.slots.all())
    enrolments = _enrol(term, plan, pupils.students, slots)
    enrollment.fee_standard_publish(term=term, user=principal, mode="per_hour",
                                    rate=Decimal("2.00"), effective_from=term.start,
                                    approved_by="发展改革委", approval_ref="价〔2026〕1号")
    leaves = _leave(term, enrolments, slots, leave_every, principal)
    paid = pay_in_bulk(term, enrolments, finance) if pay else 0
    middle = term.start + datetime.timedelta(days=TERM_DAYS // 2)
    withdrawn = [e.pk for i, e in enumerate(enrolments) if i % withdraw_every == 0]
    Enrolment.objects.filter(pk__in=withdrawn).update(end_date=middle,
                                                      status=Enrolment.Status.ENDED)
    return SimpleNamespace(term=term, school=term.school, principal=principal, finance=finance,
                           enrolments=enrolments, students=pupils.students, leaves=leaves,
                           paid=paid, withdrawn=len(withdrawn))
