"""Billing API (API.md, Billing): statements, payments with their receipts and voids, and the
ledger's reports. Thin: parse, scope through the selectors, call a service."""

import datetime

from django.db.models import Sum
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
from schools.models import Term
from schools.openapi import conflict, error
from schools.params import date_param, int_param

from . import ledger, selectors, services, settlement
from .models import SPENDING, Payment, Refund, Subsidy, Waiver

OPEN = OpenApiTypes.OBJECT


def _money(value) -> str:
    return f"{value:.2f}"


def waiver_json(w: Waiver, *, evidence: bool = True) -> dict:
    revocation = getattr(w, "revocation", None)  # a reverse one-to-one: absent is None
    data = {"id": w.pk, "student": w.student_id, "term": w.term_id, "kind": w.kind,
            "value": _money(w.value), "reason": w.reason, "borne_by": w.borne_by,
            "valid_from": w.valid_from.isoformat(),
            "revoked_from": revocation.effective_from.isoformat() if revocation else None,
            "revoke_reason": revocation.reason if revocation else ""}
    if evidence:
        data["evidence"] = w.evidence
    if hasattr(w, "posted"):
        data["amount"] = _money(w.posted or 0)
    return data


def refund_json(r: Refund) -> dict:
    return {"id": r.pk, "out_refund_no": r.out_refund_no, "student": r.student_id,
            "term": r.term_id, "payment": r.payment_id, "receipt_no": r.payment.receipt_no,
            "method": r.payment.method, "amount": _money(r.amount), "status": r.status,
            "reference": r.reference, "failure": r.failure,
            "created_at": r.created_at.isoformat()}


def statement_json(s: selectors.Statement, service: selectors.Service) -> dict:
    return {
        "student": s.student.pk, "term": s.term.pk, "as_of": s.as_of.isoformat(),
        "charges": [{"id": c.pk, "kind": c.kind, "amount": _money(c.amount), "basis": c.basis,
                     "posted_at": c.created_at.isoformat()} for c in s.charges],
        # The family sees that a waiver applies and how much; its certification stays with
        # the school.
        "waivers": [waiver_json(w, evidence=False) for w in s.waivers],
        "refunds": [refund_json(r) for r in s.refunds],
        "payments": [services.payment_json(p) for p in s.payments],
        "transfers": [{"id": t.pk, "receipt_no": t.payment.receipt_no,
                       "from_student": t.from_student_id, "to_student": t.to_student_id,
                       "amount": _money(t.amount), "reason": t.reason}
                      for t in s.transfers],
        "service": {"through": service.through.isoformat(), "slot_days": service.slot_days,
                    "class_hours": str(service.class_hours),
                    "leave_slot_days": service.leave_days},
        "charged": _money(s.charged), "waived": _money(s.waived), "paid": _money(s.paid),
        "transferred": _money(s.transferred),
        "refunded": _money(s.refunded), "balance": _money(s.balance)}


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
        return Response(statement_json(
            selectors.statement(student, term),
            selectors.service_delivered(student, term, timezone.localdate())))


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


class FiscalReceiptApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FiscalReceiptInput"

        code = serializers.CharField(max_length=30)
        number = serializers.CharField(max_length=30)

    @extend_schema(request=InputSerializer,
                   responses={200: OPEN, 409: conflict("fiscal_receipt_recorded")})
    def post(self, request, pk: int):
        if not selectors.is_finance(request.user):
            raise PermissionDenied(_("只有学校财务人员可以登记财政电子票据。"))
        payment = get_object_or_404(selectors.payments_recorded_by(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.payment_json(services.payment_fiscal_receipt(
            payment=payment, user=request.user, **data.validated_data)))


class PaymentTransferApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PaymentTransferInput"

        student = serializers.IntegerField()
        reason = serializers.CharField(max_length=200)

    @extend_schema(request=InputSerializer, responses={
        201: OPEN, 409: conflict("already_transferred", "already_voided", "not_a_payment")})
    def post(self, request, pk: int):
        if not selectors.is_finance(request.user):
            raise PermissionDenied(_("只有学校财务人员可以转记收费。"))
        payment = get_object_or_404(selectors.payments_recorded_by(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        to_student = get_object_or_404(selectors.students_billed_by(request.user),
                                       pk=data.validated_data["student"])
        transfer = services.payment_transfer(payment=payment, user=request.user,
                                             to_student=to_student,
                                             reason=data.validated_data["reason"])
        return Response({"id": transfer.pk, "receipt_no": payment.receipt_no,
                         "from_student": transfer.from_student_id,
                         "to_student": transfer.to_student_id,
                         "amount": _money(transfer.amount), "entry": transfer.entry.label},
                        status=status.HTTP_201_CREATED)


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


# --- Waivers ---------------------------------------------------------------------------------

class WaiverListApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WaiverInput"

        student = serializers.IntegerField()
        term = serializers.IntegerField()
        kind = serializers.ChoiceField(choices=Waiver.Kind.choices)
        value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False,
                                         default=None, allow_null=True)
        reason = serializers.CharField(max_length=200)
        borne_by = serializers.ChoiceField(choices=Waiver.BorneBy.choices)
        evidence = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                         default="")
        valid_from = serializers.DateField(required=False, default=None, allow_null=True)

    @extend_schema(responses={200: OPEN})
    def get(self, request):
        waivers = selectors.waivers_visible_to(request.user).annotate(
            posted=Sum("postings__amount")).order_by("term_id", "student_id", "pk")
        term_id = int_param(request.query_params, "term")
        if term_id is not None:
            waivers = waivers.filter(term_id=term_id)
        # The certification a waiver rests on is read by whoever decides waivers (the
        # principal); office and finance see the waiver and its amount.
        deciding = selectors.waiver_decider_school_ids(request.user)
        return Response({"results": [
            waiver_json(w, evidence=deciding is None or w.school_id in deciding)
            for w in waivers[:2000]]})

    @extend_schema(request=InputSerializer, responses={201: OPEN,
                                                       409: conflict("waiver_exists")})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        student = get_object_or_404(selectors.students_waived_by(request.user), pk=v["student"])
        term = get_object_or_404(selectors.terms_of_student(student), pk=v["term"])
        if v["kind"] != Waiver.Kind.FULL and v["value"] is None:
            raise PolicyViolation(_("请填写减免比例或金额。"), field="value")
        waiver = services.waiver_grant(
            user=request.user, student=student, term=term, kind=v["kind"], value=v["value"],
            reason=v["reason"], borne_by=v["borne_by"], evidence=v["evidence"],
            valid_from=v["valid_from"])
        waiver = selectors.waivers_visible_to(request.user).annotate(
            posted=Sum("postings__amount")).get(pk=waiver.pk)
        return Response(waiver_json(waiver), status=status.HTTP_201_CREATED)


class WaiverRevokeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WaiverRevokeInput"

        reason = serializers.CharField(max_length=200)
        effective_from = serializers.DateField(required=False, default=None, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: OPEN,
                                                       409: conflict("already_revoked")})
    def post(self, request, pk: int):
        waiver = get_object_or_404(selectors.waivers_decided_by(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.waiver_revoke(waiver=waiver, user=request.user,
                               reason=data.validated_data["reason"],
                               effective_from=data.validated_data["effective_from"])
        waiver = selectors.waivers_visible_to(request.user).annotate(
            posted=Sum("postings__amount")).get(pk=waiver.pk)
        return Response(waiver_json(waiver))


# --- Government money ------------------------------------------------------------------------

class SubsidyListApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SubsidyInput"

        kind = serializers.ChoiceField(choices=Subsidy.Kind.choices,
                                       default=Subsidy.Kind.SUBSIDY)
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        source_document = serializers.CharField(max_length=200)
        basis = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                      default="")
        received_on = serializers.DateField()
        term = serializers.IntegerField(required=False, default=None, allow_null=True)

    @extend_schema(responses={200: OPEN})
    def get(self, request, pk: int):
        school = selectors.ledger_school_for(request.user, pk)
        return Response({"results": [services.subsidy_json(s) for s in
                                     selectors.subsidies_visible_to(request.user, school)]})

    @extend_schema(request=InputSerializer, responses={
        201: OPEN, 422: error(_lazy("同一 Idempotency-Key 用于不同的请求。"))})
    def post(self, request, pk: int):
        school = selectors.ledger_school_for(request.user, pk)
        if not selectors.records_money_of(request.user, school):
            raise PermissionDenied(_("只有学校财务人员可以登记财政拨款。"))
        key = _idempotency_key(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        term = None
        if v["term"] is not None:
            term = get_object_or_404(Term.objects.filter(school=school), pk=v["term"])
        reply = services.subsidy_record(
            user=request.user, key=key, school_id=school.pk, kind=v["kind"], amount=v["amount"],
            source_document=v["source_document"], received_on=v["received_on"], term=term,
            basis=v["basis"])
        return Response(reply.body, status=reply.status)


class ExpenseListApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ExpenseInput"

        category = serializers.ChoiceField(choices=[(a.value, a.label) for a in SPENDING])
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        payee = serializers.CharField(max_length=100)
        description = serializers.CharField(max_length=200)
        document = serializers.CharField(max_length=100)
        paid_on = serializers.DateField()

    @extend_schema(responses={200: OPEN})
    def get(self, request, pk: int):
        school = selectors.ledger_school_for(request.user, pk)
        return Response({"results": [services.expense_json(e) for e in
                                     selectors.expenses_of(school)[:2000]]})

    @extend_schema(request=InputSerializer, responses={
        201: OPEN, 422: error(_lazy("同一 Idempotency-Key 用于不同的请求。"))})
    def post(self, request, pk: int):
        school = selectors.ledger_school_for(request.user, pk)
        if not selectors.records_money_of(request.user, school):
            raise PermissionDenied(_("只有学校财务人员可以登记支出。"))
        key = _idempotency_key(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.expense_record(user=request.user, key=key, school_id=school.pk,
                                        **data.validated_data)
        return Response(reply.body, status=reply.status)


# --- Settlement and refunds ------------------------------------------------------------------

def settled_json(s: settlement.Settled) -> dict:
    return {"term": s.settlement.term_id, "run": s.settlement.run,
            "posted": s.settlement.entries,
            "refunds": [refund_json(r) for r in s.refunds],
            "top_ups": [{"student": student, "amount": _money(amount)}
                        for student, amount in s.top_ups.items()],
            "total_refund": _money(s.total_refund), "total_top_up": _money(s.total_top_up)}


class SettleApi(APIView):
    @extend_schema(request=None, responses={200: OPEN, 409: conflict("term_not_ended")})
    def post(self, request, pk: int):
        term = get_object_or_404(selectors.terms_settled_by(request.user), pk=pk)
        return Response(settled_json(settlement.term_settle(term=term, user=request.user)))


@extend_schema(responses={200: OPEN})
class RefundListApi(APIView):
    def get(self, request):
        refunds = selectors.refunds_handled_by(request.user).order_by("pk")
        term_id = int_param(request.query_params, "term")
        if term_id is not None:
            refunds = refunds.filter(term_id=term_id)
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in Refund.Status.values:
                raise PolicyViolation(_("未知的退费状态。"), field="status")
            refunds = refunds.filter(status=wanted)
        return Response({"results": [refund_json(r) for r in refunds[:5000]]})


def _refund_step(request, pk: int, serializer, step) -> Response:
    """Move one of the caller's refunds on: its body's fields are the step's arguments."""
    refund = get_object_or_404(selectors.refunds_handled_by(request.user), pk=pk)
    fields = {}
    if serializer is not None:
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
    return Response(refund_json(step(refund=refund, user=request.user, **fields)))


class RefundDoneApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RefundDoneInput"

        reference = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses={200: OPEN,
                                                       409: conflict("refund_closed")})
    def post(self, request, pk: int):
        return _refund_step(request, pk, self.InputSerializer, settlement.refund_done)


class RefundSentApi(APIView):
    @extend_schema(request=None, responses={200: OPEN, 409: conflict("refund_closed")})
    def post(self, request, pk: int):
        return _refund_step(request, pk, None, settlement.refund_sent)


class RefundFailedApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RefundFailedInput"

        reason = serializers.CharField(max_length=200)

    @extend_schema(request=InputSerializer, responses={200: OPEN,
                                                       409: conflict("refund_closed")})
    def post(self, request, pk: int):
        return _refund_step(request, pk, self.InputSerializer, settlement.refund_failed)
