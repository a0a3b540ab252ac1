"""Billing API (API.md, Billing): statements, payments with their receipts and voids, and the
ledger's reports. Thin: parse, scope through the selectors, call a service."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from schools.errors import PolicyViolation
from schools.openapi import conflict, error
from schools.params import date_param, int_param

from . import ledger, selectors, services
from .models import Payment

OPEN = OpenApiTypes.OBJECT


def _money(value) -> str:
    return f"{value:.2f}"


def statement_json(s: selectors.Statement) -> dict:
    return {
        "student": s.student.pk, "term": s.term.pk, "as_of": s.as_of.isoformat(),
        "charges": [{"id": c.pk, "kind": c.kind, "amount": _money(c.amount), "basis": c.basis,
                     "posted_at": c.created_at.isoformat()} for c in s.charges],
        "waivers": [], "refunds": [],
        "payments": [services.payment_json(p) for p in s.payments],
        "charged": _money(s.charged), "paid": _money(s.paid), "balance": _money(s.balance)}


@extend_schema(responses={200: OPEN})
class StatementApi(APIView):
    def get(self, request, pk: int):
        student = get_object_or_404(selectors.statement_students_for(request.user), pk=pk)
        terms = selectors.terms_of_student(student)
        term_id = int_param(request.query_params, "term")
        term = (get_object_or_404(terms, pk=term_id) if term_id is not None
                else terms.filter(start__lte=timezone.localdate()).first() or terms.first())
        if term is None:
            raise PolicyViolation(_("这所学校还没有学期。"), field="term")
        return Response(statement_json(selectors.statement(student, term)))


def _idempotency_key(request) -> str:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > 100:
        raise PolicyViolation(_("收费请求须带 Idempotency-Key 请求头（1 至 100 个字符）。"),
                              field="Idempotency-Key")
    return key


class PaymentCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PaymentInput"

        student = serializers.IntegerField()
        term = serializers.IntegerField()
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        method = serializers.ChoiceField(choices=Payment.Method.choices)
        reference = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                          default="")

    @extend_schema(request=InputSerializer, responses={
        201: OPEN, 409: conflict("duplicate_reference"),
        422: error(_lazy("同一 Idempotency-Key 用于不同的请求。"))})
    def post(self, request):
        if not selectors.is_finance(request.user):
            raise PermissionDenied(_("只有学校财务人员可以登记收费。"))
        key = _idempotency_key(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        student = get_object_or_404(selectors.students_billed_by(request.user), pk=v["student"])
        term = get_object_or_404(selectors.terms_of_student(student), pk=v["term"])
        reply = services.payment_record(user=request.user, key=key, student=student, term=term,
                                        amount=v["amount"], method=v["method"],
                                        reference=v["reference"])
        return Response(reply.body, status=reply.status)


class PaymentVoidApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PaymentVoidInput"

        reason = serializers.CharField(max_length=200)

    @extend_schema(request=InputSerializer,
                   responses={201: OPEN, 409: conflict("already_voided", "not_a_payment")})
    def post(self, request, pk: int):
        if not selectors.is_finance(request.user):
            raise PermissionDenied(_("只有学校财务人员可以冲销收据。"))
        payment = get_object_or_404(selectors.payments_recorded_by(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        void = services.payment_void(payment=payment, user=request.user,
                                     reason=data.validated_data["reason"])
        return Response({"id": void.pk, "receipt_no": void.receipt_no,
                         "voids": payment.receipt_no}, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: OPEN})
class TrialBalanceApi(APIView):
    def get(self, request, pk: int):
        school = selectors.ledger_school_for(request.user, pk)
        date = date_param(request.query_params, "date") or timezone.localdate()
        rows = ledger.trial_balance(school.pk, date)
        debit = sum(r.debit for r in rows)
        credit = sum(r.credit for r in rows)
        return Response({
            "school": school.pk, "date": date.isoformat(),
            "accounts": [{"code": r.account, "name": r.name, "debit": _money(r.debit),
                          "credit": _money(r.credit), "balance": _money(r.balance)}
                         for r in rows],
            "total_debit": _money(debit), "total_credit": _money(credit)})


@extend_schema(responses={200: OPEN})
class JournalApi(APIView):
    def get(self, request, pk: int):
        school = selectors.ledger_school_for(request.user, pk)
        today = timezone.localdate()
        end = date_param(request.query_params, "to") or today
        start = date_param(request.query_params, "from") or end.replace(day=1)
        if start > end:
            raise PolicyViolation(_("开始日期不能晚于结束日期。"), field="from")
        if (end - start) > datetime.timedelta(days=400):
            raise PolicyViolation(_("一次最多查询 400 天的凭证。"), field="to")
        return Response({"school": school.pk, "from": start.isoformat(), "to": end.isoformat(),
                         "entries": [{
                             "id": e.pk, "number": e.label, "date": e.date.isoformat(),
                             "kind": e.kind, "source": e.source, "memo": e.memo,
                             "reverses": e.reverses_id,
                             "lines": [{"account": line.account, "debit": _money(line.debit),
                                        "credit": _money(line.credit),
                                        "student": line.student_id}
                                       for line in e.lines.all()]}
                             for e in ledger.journal(school.pk, start, end)]})
