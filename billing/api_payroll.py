"""Teacher pay API (API.md, Billing; R12): the month's payroll drafted and published by the
principal, paid by finance, and the school's rate per class-hour. Thin: parse, scope, call
billing.payroll.

Who: a write by someone without the role anywhere is refused (403), as billing.api refuses a
payment by anyone but finance; a school where they do not hold it is outside their scope (404).
The payroll and the rates are read by the school's principal and finance."""

import datetime
import re

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from schools.openapi import conflict
from schools.params import InvalidParameter

from . import payroll as pay
from . import selectors
from .ledger import ZERO
from .models import JournalEntry, PayRate, Payroll, PayrollLine

OPEN = OpenApiTypes.OBJECT
_MONTH = re.compile(r"(2[0-9]{3})-(0[1-9]|1[0-2])")
MONTH = OpenApiParameter(
    "month", str, OpenApiParameter.PATH, required=True, pattern=f"^{_MONTH.pattern}$",
    description=_lazy("月份，格式 YYYY-MM（如 2026-03）。"))
BAD_MONTH = OpenApiResponse(OPEN, description=_lazy(
    "请求无效：month 不是 YYYY-MM 格式的年月（{\"month\": [\"信息\"]}），或请求体的字段错误。"))


def parse_month(value: str) -> datetime.date:
    """The first day of a `YYYY-MM` month; a 400 naming `month` otherwise."""
    match = _MONTH.fullmatch(value)
    if match is None:
        raise InvalidParameter("month", _("参数 %(name)s 须为 2000 年以后的年月，格式 YYYY-MM"
                                          "（如 2026-03）。") % {"name": "month"})
    return datetime.date(int(match[1]), int(match[2]), 1)


def _money(value) -> str:
    return f"{value:.2f}"


def _line_json(line: PayrollLine) -> dict:
    return {"staff": line.staff_id, "name": line.staff.name, "provider": line.provider_name,
            "sessions": line.sessions, "substitute_sessions": line.substitute_sessions,
            "class_hours": str(line.class_hours), "rate": _money(line.rate),
            "amount": _money(line.amount), "for_month": f"{line.for_month:%Y-%m}",
            "note": line.note}


def payroll_json(payroll: Payroll) -> dict:
    """The payroll with its lines, and providers' staff grouped by provider (R13): each
    provider's staff (ids) and what the school owes for them. Two queries."""
    lines = list(pay.payroll_lines(payroll))
    providers: dict[str, dict] = {}
    for line in lines:
        if line.provider_name:
            group = providers.setdefault(line.provider_name, {"staff": set(),
                                                              "amount": ZERO})
            group["staff"].add(line.staff_id)
            group["amount"] += line.amount
    entries = {e.pk: e.label for e in JournalEntry.objects.filter(
        pk__in=[pk for pk in (payroll.entry_id, payroll.paid_entry_id) if pk])}
    return {
        "school": payroll.school_id, "month": payroll.label, "status": payroll.status,
        "total": _money(payroll.total),
        "drafted_at": timezone.localtime(payroll.drafted_at).isoformat(),
        "published_at": (timezone.localtime(payroll.published_at).isoformat()
                         if payroll.published_at else None),
        "entry": entries.get(payroll.entry_id), "paid_entry": entries.get(payroll.paid_entry_id),
        "paid_reference": payroll.paid_reference,
        "lines": [_line_json(line) for line in lines],
        "providers": [{"provider": name, "staff": sorted(group["staff"]),
                       "amount": _money(group["amount"])}
                      for name, group in sorted(providers.items())]}


def _refuse_unless(user, roles: set[str], message: str) -> None:
    if not selectors.holds(user, roles):
        raise PermissionDenied(message)


class PayrollApi(APIView):
    """GET: the month's payroll as stored (draft or published). POST: draft it, or recompute
    the draft, from the sessions served so far (R12)."""

    @extend_schema(parameters=[MONTH], responses={200: OPEN, 400: BAD_MONTH})
    def get(self, request, pk: int, month: str):
        school = selectors.payroll_school_for(request.user, pk, pay.READERS)
        return Response(payroll_json(pay.payroll_of(school, parse_month(month))))

    @extend_schema(parameters=[MONTH], request=None, responses={
        200: OPEN, 400: BAD_MONTH, 409: conflict("payroll_published", "month_not_started")})
    def post(self, request, pk: int, month: str):
        _refuse_unless(request.user, pay.DRAFTERS, _("只有校长可以编制劳务费。"))
        school = selectors.payroll_school_for(request.user, pk, pay.DRAFTERS)
        payroll = pay.payroll_draft(school=school, month=parse_month(month), user=request.user)
        return Response(payroll_json(payroll))


class PayrollPublishApi(APIView):
    """The principal publishes the month's draft to the staff (R9, R12); published payrolls
    are never rewritten."""

    @extend_schema(parameters=[MONTH], request=None, responses={
        200: OPEN, 400: BAD_MONTH,
        409: conflict("payroll_published", "payroll_not_drafted", "month_not_ended",
                      "payroll_outdated")})
    def post(self, request, pk: int, month: str):
        _refuse_unless(request.user, pay.DRAFTERS, _("只有校长可以公布劳务费。"))
        school = selectors.payroll_school_for(request.user, pk, pay.DRAFTERS)
        payroll = pay.payroll_publish(school=school, month=parse_month(month),
                                      user=request.user)
        return Response(payroll_json(payroll))


class PayrollPaidApi(APIView):
    """Finance records the payment of a published payroll, once."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PayrollPaidInput"

        reference = serializers.CharField(max_length=64)

    @extend_schema(parameters=[MONTH], request=InputSerializer, responses={
        200: OPEN, 400: BAD_MONTH,
        409: conflict("payroll_paid", "payroll_not_published", "payroll_nothing_to_pay")})
    def post(self, request, pk: int, month: str):
        _refuse_unless(request.user, pay.PAYERS, _("只有学校财务人员可以登记劳务费支付。"))
        school = selectors.payroll_school_for(request.user, pk, pay.PAYERS)
        payroll = pay.payroll_of(school, parse_month(month))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payroll = pay.payroll_pay(payroll=payroll, user=request.user,
                                  reference=data.validated_data["reference"])
        return Response(payroll_json(payroll))


def _rate_json(version: PayRate) -> dict:
    return {"id": version.pk, "rate": _money(version.rate),
            "effective_from": version.effective_from.isoformat(),
            "set_by": version.set_by.display_name or version.set_by.username,
            "set_at": timezone.localtime(version.set_at).isoformat()}


class PayRatesApi(APIView):
    """The school's rate per class-hour (R12): its versions, the rate in force today, and the
    default where the school set none. A new version from today or later, never an edit."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PayRateInput"

        rate = serializers.DecimalField(max_digits=12, decimal_places=2)
        effective_from = serializers.DateField()

    @extend_schema(responses={200: OPEN})
    def get(self, request, pk: int):
        school = selectors.payroll_school_for(request.user, pk, pay.READERS)
        versions = list(pay.pay_rates_of(school))
        rates = pay.Rates([v.effective_from for v in versions], [v.rate for v in versions],
                          pay.default_pay_rate())
        return Response({"school": school.pk, "default": _money(rates.default),
                         "in_force": _money(rates.on(timezone.localdate())),
                         "versions": [_rate_json(v) for v in versions]})

    @extend_schema(request=InputSerializer, responses={201: OPEN})
    def post(self, request, pk: int):
        _refuse_unless(request.user, pay.DRAFTERS, _("只有校长可以设定课时费标准。"))
        school = selectors.payroll_school_for(request.user, pk, pay.DRAFTERS)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = pay.pay_rate_set(school=school, user=request.user, **data.validated_data)
        return Response(_rate_json(version), status=status.HTTP_201_CREATED)
