"""Who reads which money, and the family statement.

A guardian reads their own children's statements; the school's principal, office and finance
read every child's of the school; the ledger is read by the school's finance and principal and
by the district. Payments are recorded by the school's finance staff only."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from schools.models import Role, School, Student, Term, User
from schools.selectors import (
    children_of,
    district_ids_for,
    has_role,
    school_ids_for,
)

from . import ledger
from .models import Charge, Payment

# Who decides with fees: the school's finance officer, and its principal and office.
FEE_ROLES = {Role.PRINCIPAL, Role.OFFICE, Role.FINANCE}
LEDGER_ROLES = {Role.PRINCIPAL, Role.FINANCE}


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
    payments: list[Payment]
    charged: Decimal
    paid: Decimal
    balance: Decimal
    as_of: datetime.datetime


def statement(student: Student, term: Term) -> Statement:
    """Three queries: charges, receipts, and the family receivable's balance."""
    charges = list(Charge.objects.filter(student=student, term=term).order_by("pk"))
    payments = list(Payment.objects.filter(student=student, term=term)
                    .order_by("receipt_year", "receipt_number"))
    charged = sum((c.amount for c in charges), Decimal("0.00"))
    paid = sum((p.signed_amount for p in payments), Decimal("0.00"))
    return Statement(student, term, charges, payments, charged, paid,
                     ledger.family_balance(student.pk, term.pk), timezone.now())


def terms_of_student(student: Student) -> QuerySet[Term]:
    return Term.objects.filter(school_id=student.school_id).order_by("-start")
