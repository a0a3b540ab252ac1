"""Who reads which money, and the family statement.

A guardian reads their own children's statements; the school's principal, office and finance
read every child's of the school; the ledger is read by the school's finance and principal and
by the district. Payments are recorded by the school's finance staff only."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from enrollment.selectors import term_enrolments, term_leave_days
from schools.models import Role, School, Student, Term, User
from schools.selectors import (
    children_of,
    district_ids_for,
    has_role,
    school_ids_for,
    slot_dates,
)

from . import ledger
from .models import (
    Charge,
    Expense,
    Payment,
    PaymentTransfer,
    Refund,
    Subsidy,
    Waiver,
    WaiverPosting,
)

# Who decides with fees: the school's finance officer, and its principal and office.
FEE_ROLES = {Role.PRINCIPAL, Role.OFFICE, Role.FINANCE}
LEDGER_ROLES = {Role.PRINCIPAL, Role.FINANCE}
# Who decides waivers and settles a term: the principal.
DECIDER_ROLES = {Role.PRINCIPAL}


def is_finance(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or has_role(user, Role.FINANCE))


def finance_school_ids(user: User) -> set[int] | None:
    """The schools whose payments the user records (None: every school, a superuser)."""
    return None if user.is_superuser else school_ids_for(user, {Role.FINANCE})


def students_billed_by(user: User) -> QuerySet[Student]:
    """The children whose payments the user records."""
    ids = finance_school_ids(user)
    students = Student.objects.select_related("school")
    return students if ids is None else students.filter(school_id__in=ids)


def statement_students_for(user: User) -> QuerySet[Student]:
    """The children whose statements the user reads: own children; the school's for fee
    roles."""
    if not user.is_authenticated:
        return Student.objects.none()
    if user.is_superuser:
        return Student.objects.select_related("school")
    q = Q(pk__in=children_of(user).values("pk"))
    if ids := school_ids_for(user, FEE_ROLES):
        q |= Q(school_id__in=ids)
    return Student.objects.filter(q).select_related("school", "homeroom")


def payments_recorded_by(user: User) -> QuerySet[Payment]:
    """The receipts the user may void: those of the schools where they record payments."""
    ids = finance_school_ids(user)
    return Payment.objects.all() if ids is None else Payment.objects.filter(school_id__in=ids)


def _school_scoped(qs: QuerySet, user: User, roles, field: str = "school_id") -> QuerySet:
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(**{f"{field}__in": school_ids_for(user, roles)})


def students_waived_by(user: User) -> QuerySet[Student]:
    """The children the user may grant a waiver to: their school's, as its principal."""
    return _school_scoped(Student.objects.select_related("school"), user, DECIDER_ROLES)


def waiver_decider_school_ids(user: User) -> set[int] | None:
    """The schools whose waivers the user decides (None: every school, a superuser)."""
    return None if user.is_superuser else school_ids_for(user, DECIDER_ROLES)


def waivers_decided_by(user: User) -> QuerySet[Waiver]:
    """The waivers the user may revoke."""
    return _school_scoped(Waiver.objects.select_related("term", "student"), user,
                          DECIDER_ROLES)


def waivers_visible_to(user: User) -> QuerySet[Waiver]:
    """The school's waivers, for its principal, office and finance (who decide or account
    with them); never for teachers or other families."""
    return _school_scoped(Waiver.objects.select_related("student", "revocation"), user,
                          FEE_ROLES)


def terms_settled_by(user: User) -> QuerySet[Term]:
    return _school_scoped(Term.objects.select_related("school"), user, DECIDER_ROLES)


def refunds_handled_by(user: User) -> QuerySet[Refund]:
    """The refunds the user pays out: their school's, as its finance officer."""
    return _school_scoped(Refund.objects.select_related("payment", "student"), user,
                          {Role.FINANCE})


def records_money_of(user: User, school: School) -> bool:
    """Whether the user records the school's money (payments, government money, spending):
    its finance officer."""
    ids = finance_school_ids(user)
    return ids is None or school.pk in ids


def subsidies_visible_to(user: User, school: School) -> QuerySet[Subsidy]:
    return Subsidy.objects.filter(school=school).select_related("entry", "term")


def expenses_of(school: School) -> QuerySet[Expense]:
    """The school's spending, latest first (read by those who read its ledger)."""
    return (Expense.objects.filter(school=school).select_related("entry")
            .order_by("-paid_on", "-pk"))


def holds(user: User, roles: set[str]) -> bool:
    """Whether the user holds one of `roles` in some school (a superuser always): a caller
    without it is refused (403) before any school is looked up."""
    return user.is_authenticated and (user.is_superuser or has_role(user, *roles))


def payroll_school_for(user: User, pk: int, roles: set[str]) -> School:
    """The school, if the user holds one of `roles` there (a superuser: any); 404 otherwise."""
    if not user.is_authenticated:
        raise Http404
    schools = School.objects.all()
    if not user.is_superuser:
        schools = schools.filter(pk__in=school_ids_for(user, roles))
    return get_object_or_404(schools, pk=pk)


def ledger_school_for(user: User, pk: int) -> School:
    """A school whose ledger the user reads: finance or principal there, or the district
    over it; 404 otherwise."""
    if not user.is_authenticated:
        raise Http404
    schools = School.objects.all()
    if not user.is_superuser:
        schools = schools.filter(Q(pk__in=school_ids_for(user, LEDGER_ROLES))
                                 | Q(district_id__in=district_ids_for(user)))
    return get_object_or_404(schools, pk=pk)


@dataclass
class Statement:
    """A child's account for a term: what was charged and why, payments and voids, and the
    balance (positive: the family owes; negative: the school owes them)."""

    student: Student
    term: Term
    charges: list[Charge]
    waivers: list[Waiver]
    payments: list[Payment]
    refunds: list[Refund]
    transfers: list[PaymentTransfer]
    charged: Decimal
    waived: Decimal
    paid: Decimal
    transferred: Decimal
    refunded: Decimal
    balance: Decimal
    as_of: datetime.datetime

    @property
    def due(self) -> Decimal:
        """What the family's part comes to: the charges less the waivers."""
        return self.charged - self.waived


def statement(student: Student, term: Term) -> Statement:
    """Six queries: charges, waivers with their postings, receipts, refunds, transfers, and the
    family receivable's balance."""
    zero = Decimal("0.00")
    charges = list(Charge.objects.filter(student=student, term=term).order_by("pk"))
    waivers = list(Waiver.objects.filter(student=student, term=term)
                   .select_related("revocation").annotate(posted=Sum("postings__amount"))
                   .order_by("pk"))
    payments = list(Payment.objects.filter(student=student, term=term)
                    .order_by("receipt_year", "receipt_number"))
    refunds = list(Refund.objects.filter(student=student, term=term)
                   .select_related("payment").order_by("pk"))
    transfers = list(PaymentTransfer.objects.filter(Q(from_student=student)
                                                    | Q(to_student=student),
                                                    payment__term=term)
                     .select_related("payment").order_by("pk"))
    return Statement(
        student, term, charges, waivers, payments, refunds, transfers,
        charged=sum((c.amount for c in charges), zero),
        waived=sum((w.posted or zero for w in waivers), zero),
        paid=sum((p.signed_amount for p in payments), zero),
        # A payment moved to a sibling leaves this child's account; one moved here arrives.
        transferred=sum((t.amount if t.to_student_id == student.pk else -t.amount
                         for t in transfers), zero),
        refunded=sum((r.amount for r in refunds if r.status != Refund.Status.FAILED), zero),
        balance=ledger.family_balance(student.pk, term.pk), as_of=timezone.now())


@dataclass(frozen=True)
class Service:
    """The service a child's enrolments covered so far: slot-days and class-hours, and the
    slot-days excused by leave (not counted)."""

    through: datetime.date
    slot_days: int
    class_hours: Decimal
    leave_days: int


def service_delivered(student: Student, term: Term, today: datetime.date) -> Service:
    """Four queries: enrolments with slots, calendar, leave."""
    through = min(today, term.end)
    enrolments = list(term_enrolments(term, [student]))
    leave = term_leave_days(term, [student])
    dates = slot_dates(term, term.start, through)
    days, hours, excused = 0, Decimal(0), 0
    for e in enrolments:
        for slot in e.slots.all():
            for day in dates.get(slot.pk, []):
                if not e.start_date <= day <= (e.end_date or term.end):
                    continue
                if (student.pk, day, slot.pk) in leave:
                    excused += 1
                    continue
                days += 1
                hours += slot.class_hours
    return Service(through, days, hours, excused)


def terms_of_student(student: Student) -> QuerySet[Term]:
    return Term.objects.filter(school_id=student.school_id).order_by("-start")


@dataclass
class SchoolMoney:
    """A school's fees for terms, for the district's workbook: charged (after settlement, the
    service due), waived, collected (payments less voids), refunded (paid out)."""

    charged: Decimal = Decimal("0.00")
    waived: Decimal = Decimal("0.00")
    collected: Decimal = Decimal("0.00")
    refunded: Decimal = Decimal("0.00")


def money_by_school(term_ids) -> dict[int, SchoolMoney]:
    """Per school, four aggregate queries whatever the number of schools."""
    ids = list(term_ids)
    found: dict[int, SchoolMoney] = {}

    def add(rows, name):
        for school_id, total in rows:
            money = found.setdefault(school_id, SchoolMoney())
            setattr(money, name, getattr(money, name) + (total or 0))

    add(Charge.objects.filter(term_id__in=ids).values("term__school_id")
        .annotate(t=Sum("amount")).values_list("term__school_id", "t"), "charged")
    add(WaiverPosting.objects.filter(waiver__term_id__in=ids).values("waiver__school_id")
        .annotate(t=Sum("amount")).values_list("waiver__school_id", "t"), "waived")
    for school_id, kind, total in (Payment.objects.filter(term_id__in=ids)
                                   .values("school_id", "kind").annotate(t=Sum("amount"))
                                   .values_list("school_id", "kind", "t")):
        money = found.setdefault(school_id, SchoolMoney())
        money.collected += total if kind == Payment.Kind.PAYMENT else -total
    add(Refund.objects.filter(term_id__in=ids, status=Refund.Status.DONE).values("school_id")
        .annotate(t=Sum("amount")).values_list("school_id", "t"), "refunded")
    return found
