"""Oversight API (API.md, Oversight): the district's participation, and a school's indicators
with their numerators, denominators and definitions. Figures come from oversight.indicators
only."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from schools.models import School
from schools.openapi import date_filter, error, int_filter
from schools.params import date_param, int_param
from schools.selectors import (
    district_ids_for,
    districts_visible_to,
    terms_visible_to,
)

from . import indicators, selectors
from .selectors import on_replica

OPEN = OpenApiTypes.OBJECT


def _rate(value) -> str | None:
    return None if value is None else f"{value:.4f}"


def _per(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _when(request, schools) -> tuple[datetime.date, str | None]:
    """The as-of date and the semester: `term` names the semester (terms of one semester share
    their name across the district), `as_of` the day (by default today, or the term's end)."""
    today = timezone.localdate()
    term_id = int_param(request.query_params, "term")
    term = (get_object_or_404(terms_visible_to(request.user), pk=term_id)
            if term_id is not None else None)
    as_of = date_param(request.query_params, "as_of") or (
        min(today, term.end) if term is not None else today)
    return as_of, term.name if term is not None else None


def _time(value) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def checks_json(c: indicators.Compliance) -> dict:
    """Each compliance check: pass (true), fail (false) or not applicable (null)."""
    return {"five_plus_two": c.five_plus_two, "end_time": c.end_time_ok,
            "evening_study": c.evening_ok, "fee_standard": c.fee_published,
            "fee_cap": c.fee_within_cap,
            "refused_without_reason": c.refused_without_reason == 0}


def school_json(f: indicators.SchoolFigures) -> dict:
    return {"school": f.school.pk, "name": f.school.name,
            "checks": checks_json(f.compliance) if f.compliance else None,
            "term": f.term.pk if f.term else None, "students": f.students,
            "students_served": f.students_served, "student_rate": _rate(f.student_rate),
            "students_all_week": f.students_all_week, "staff": f.staff,
            "staff_serving": f.staff_serving, "staff_rate": _rate(f.staff_rate),
            "external_serving": f.external_serving, "at_target": f.at_target}


def definitions_json() -> dict:
    return {d.key: {"label": str(d.label), "definition": str(d.definition)}
            for d in indicators.DEFINITIONS.values()}


REFUSED = error(_lazy("不是教育局工作人员（或学校管理人员）：无权查看。"))
OUT_OF_SCOPE = error(_lazy("教育局、学校或学期不在调用者的范围内。"))
WHEN = [int_filter("term", _lazy("学期（按其名称取辖区各校的同名学期）")),
        date_filter("as_of", _lazy("统计日（默认今天，或学期结束日）"))]


@extend_schema(parameters=[int_filter("district", _lazy("教育局")), *WHEN],
               responses={200: OPEN, 403: REFUSED, 404: OUT_OF_SCOPE})
class ParticipationApi(APIView):
    """District staff: every school of the district, and the district's totals."""

    @method_decorator(on_replica)
    def get(self, request):
        if not selectors.is_district_staff(request.user):
            raise PermissionDenied(_("只有教育局工作人员可以查看辖区参与情况。"))
        districts = districts_visible_to(request.user)
        district_id = int_param(request.query_params, "district")
        if district_id is None:
            ids = district_ids_for(request.user)
            district_id = min(ids) if len(ids) == 1 else None
        district = get_object_or_404(districts, pk=district_id or 0)
        schools = list(School.objects.filter(district=district).select_related("district")
                       .order_by("code"))
        as_of, semester = _when(request, schools)
        p = indicators.participation(schools, as_of, semester, with_compliance=True)
        return Response({
            "district": district.pk, "as_of": as_of.isoformat(), "semester": semester,
            "schools": [school_json(f) for f in p.schools],
            "totals": {"schools": len(p.schools), "schools_providing": p.providing,
                       "coverage": _rate(p.coverage), "schools_at_target": p.at_target,
                       "students": p.total("students"),
                       "students_served": p.total("students_served"),
                       "student_rate": _rate(p.student_rate),
                       "students_all_week": p.total("students_all_week"),
                       "staff": p.total("staff"), "staff_serving": p.total("staff_serving"),
                       "staff_rate": _rate(p.staff_rate),
                       "external_serving": p.total("external_serving")},
            "definitions": definitions_json()})


def _indicator(key: str, numerator, denominator=None, value=None) -> dict:
    d = indicators.DEFINITIONS[key]
    return {"key": key, "label": str(d.label), "definition": str(d.definition),
            "numerator": numerator, "denominator": denominator, "value": value}


@extend_schema(parameters=WHEN, responses={200: OPEN, 403: REFUSED, 404: OUT_OF_SCOPE})
class SchoolIndicatorsApi(APIView):
    """District staff over the school, and the school's principal (or office)."""

    @method_decorator(on_replica)
    def get(self, request, pk: int):
        if not selectors.oversees(request.user):
            raise PermissionDenied(_("只有教育局和学校管理人员可以查看这些指标。"))
        school = get_object_or_404(selectors.schools_overseen_by(request.user), pk=pk)
        as_of, semester = _when(request, [school])
        f = indicators.participation([school], as_of, semester,
                                     with_compliance=True).schools[0]
        c = f.compliance or indicators.Compliance()
        return Response({"school": school.pk, "as_of": as_of.isoformat(), "semester": semester,
                         "term": f.term.pk if f.term else None,
                         "checks": checks_json(c) if f.compliance else None, "indicators": [
                             _indicator("students", f.students),
                             _indicator("students_served", f.students_served, f.students,
                                        _rate(f.student_rate)),
                             _indicator("students_all_week", f.students_all_week,
                                        f.students_served),
                             _indicator("staff", f.staff),
                             _indicator("staff_serving", f.staff_serving, f.staff,
                                        _rate(f.staff_rate)),
                             _indicator("external_serving", f.external_serving),
                             _indicator("five_plus_two", c.days_with_two_hours, 5,
                                        c.five_plus_two if f.compliance else None),
                             _indicator("end_time", _time(c.end_latest), None, c.end_time_ok),
                             _indicator("evening_study", _time(c.evening_end), None,
                                        c.evening_ok),
                             _indicator("fee_standard", c.fee.get_mode_display()
                                        if c.fee else None, None,
                                        c.fee_published if f.compliance else None),
                             _indicator("fee_cap", str(c.fee.rate) if c.fee else None,
                                        str(c.fee_cap) if c.fee_cap is not None else None,
                                        c.fee_within_cap),
                             _indicator("priority_coverage", c.priority_approved, c.priority,
                                        _rate(c.priority_rate)),
                             *(_indicator(key, n, c.child_sessions,
                                          _per(indicators.per_thousand(n, c.child_sessions)))
                               for key, n in (("unexplained_per_1000", c.unexplained),
                                              ("incidents_per_1000", c.incidents),
                                              ("late_pickups_per_1000", c.late_pickups))),
                             _indicator("refused_without_reason", c.refused_without_reason),
                             _indicator("withdrawals", c.withdrawals),
                             _indicator("complaints", None, None, "—")]})
