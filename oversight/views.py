"""District pages: the participation and compliance dashboard (district staff; a principal
sees their own school's page) and a school's indicators with their definitions. Figures come
from oversight.indicators only; charts are drawn by ECharts from data passed with
json_script, and every chart has its table beside it."""

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from schools.audit import audit_record
from schools.models import MANAGER_ROLES, School, Term
from schools.params import date_param, int_param
from schools.selectors import district_ids_for, districts_visible_to, school_ids_for
from schools.tables import download

from . import indicators, selectors
from .events import OversightAction
from .models import Workbook, WorkbookDownload
from .selectors import on_replica
from .tasks import build_workbook

CHECKS = ["five_plus_two", "end_time", "evening_study", "fee_standard", "fee_cap",
          "refused_without_reason"]
TREND_WEEKS = 8


def _semester(request, district_schools) -> tuple[str | None, list[str]]:
    names = list(Term.objects.filter(school__in=district_schools).order_by("-start")
                 .values_list("name", flat=True).distinct())
    wanted = request.GET.get("semester")
    return (wanted if wanted in names else None), list(dict.fromkeys(names))


def _checks(c: indicators.Compliance | None) -> list[bool | None]:
    if c is None:
        return [None] * len(CHECKS)
    return [c.five_plus_two, c.end_time_ok, c.evening_ok, c.fee_published, c.fee_within_cap,
            c.refused_without_reason == 0]


def _pct(value) -> float | None:
    return None if value is None else float(value * 100)


def pct_label(value) -> str:
    """A rate as the city writes it: 82.15%; "—" when nothing is counted."""
    return "—" if value is None else f"{value * 100:.2f}%"


def headlines(p: indicators.Participation) -> list[dict]:
    """The cards, in the city's own style: "244,510 人 = 82.15%", with n / N."""
    return [
        {"key": "students_served", "n": p.total("students_served"),
         "of": p.total("students"), "rate": pct_label(p.student_rate)},
        {"key": "staff_serving", "n": p.total("staff_serving"), "of": p.total("staff"),
         "rate": pct_label(p.staff_rate)},
        {"key": "schools_providing", "n": p.providing, "of": len(p.schools),
         "rate": pct_label(p.coverage)},
        {"key": "schools_at_target", "n": p.at_target, "of": len(p.schools),
         "rate": pct_label(indicators.rate(p.at_target, len(p.schools)))},
    ]


@login_required
@require_GET
@on_replica
def dashboard(request):
    user = request.user
    if not selectors.oversees(user):
        raise PermissionDenied
    districts = list(districts_visible_to(user).order_by("code"))
    if not districts:
        return redirect("oversight:school", pk=min(school_ids_for(user, MANAGER_ROLES)))
    district_id = int_param(request.GET, "district")
    district = (get_object_or_404(districts_visible_to(user), pk=district_id)
                if district_id is not None else districts[0])
    schools = list(School.objects.filter(district=district).select_related("district")
                   .order_by("code"))
    semester, semesters = _semester(request, schools)
    as_of = date_param(request.GET, "as_of") or timezone.localdate()
    weeks = [as_of - datetime.timedelta(weeks=w) for w in range(TREND_WEEKS - 1, -1, -1)]
    p = indicators.participation(schools, as_of, semester, with_compliance=True, trend=weeks)
    trend = p.trend
    ranked = sorted(p.schools, key=lambda f: (f.student_rate is None, -(f.student_rate or 0)))
    definitions = indicators.DEFINITIONS
    return render(request, "oversight/dashboard.html", {
        "district": district, "districts": districts, "semester": semester,
        "semesters": semesters, "as_of": as_of, "p": p,
        "semester_term": next((f.term.pk for f in p.schools if f.term and semester), None),
        "cards": [{**card, "label": definitions[card["key"]].label,
                   "definition": definitions[card["key"]].definition}
                  for card in headlines(p)],
        "ranked": [(f, pct_label(f.student_rate)) for f in ranked],
        "external": p.total("external_serving"),
        "all_week": p.total("students_all_week"),
        "checks": [definitions[k] for k in CHECKS],
        "matrix": [(f, _checks(f.compliance)) for f in p.schools],
        "trend": [(day, pct_label(r)) for day, r in trend], "definitions": definitions,
        "target": pct_label(indicators.TARGET_RATE),
        "chart_data": {
            "ranking": [{"name": f.school.name, "rate": _pct(f.student_rate),
                         "served": f.students_served, "students": f.students}
                        for f in reversed(ranked)],
            "target": _pct(indicators.TARGET_RATE),
            "trend": [{"date": day.isoformat(), "rate": _pct(r)} for day, r in trend]}})


@login_required
@require_GET
@on_replica
def school(request, pk: int):
    user = request.user
    if not selectors.oversees(user):
        raise PermissionDenied
    school = get_object_or_404(selectors.schools_overseen_by(user), pk=pk)
    semester = request.GET.get("semester") or None
    as_of = date_param(request.GET, "as_of") or timezone.localdate()
    f = indicators.participation([school], as_of, semester, with_compliance=True).schools[0]
    c = f.compliance
    return render(request, "oversight/school.html", {
        "school": school, "f": f, "c": c, "as_of": as_of, "semester": semester,
        "student_rate": pct_label(f.student_rate), "staff_rate": pct_label(f.staff_rate),
        "priority_rate": pct_label(c.priority_rate) if c else "—",
        "d": indicators.DEFINITIONS, "checks": list(zip(
            [indicators.DEFINITIONS[k] for k in CHECKS], _checks(c), strict=True)),
        "district_staff": bool(district_ids_for(user)) or user.is_superuser,
        "per": {key: (n, indicators.per_thousand(n, c.child_sessions)) for key, n in (
            ("unexplained_per_1000", c.unexplained), ("incidents_per_1000", c.incidents),
            ("late_pickups_per_1000", c.late_pickups))} if c else {}})


def _workbook_filename(w: Workbook) -> str:
    return f"{w.district.name}-{w.semester or w.as_of.isoformat()}-课后服务合规工作簿.xlsx"


@login_required
@require_GET
def compliance_xlsx(request):
    """District staff: the district's compliance workbook. A workbook of the same filters built
    today is downloaded at once; otherwise one is built in the background and its page shows
    the progress, then the download."""
    user = request.user
    if not selectors.is_district_staff(user):
        raise PermissionDenied
    district = get_object_or_404(districts_visible_to(user),
                                 pk=int_param(request.GET, "district")
                                 or min(district_ids_for(user), default=0))
    term_id = int_param(request.GET, "term")
    term = (get_object_or_404(Term.objects.filter(school__district=district), pk=term_id)
            if term_id is not None else None)
    school_id = int_param(request.GET, "school")
    school = (get_object_or_404(School.objects.filter(district=district), pk=school_id)
              if school_id is not None else None)
    today = timezone.localdate()
    as_of = min(today, term.end) if term is not None else today
    semester = term.name if term is not None else ""
    ready = (Workbook.objects.filter(district=district, semester=semester, as_of=as_of,
                                     school=school, status=Workbook.Status.DONE,
                                     requested_at__date=today).first())
    if ready is not None:
        return _download(request, ready)
    workbook = Workbook.objects.create(district=district, semester=semester, as_of=as_of,
                                       school=school, personal_data=school is not None,
                                       requested_by=user)
    audit_record(actor=user, action=OversightAction.WORKBOOK_REQUESTED, obj=workbook,
                 school=None, data={"district": district.pk, "semester": semester,
                                    "as_of": as_of.isoformat(),
                                    "school": school.pk if school else None})
    build_workbook.delay(workbook.pk)  # no request transaction: the record is committed
    return redirect("oversight:workbook", pk=workbook.pk)


def _workbook_for(request, pk: int, *, with_file: bool = False) -> Workbook:
    """One of the caller's district's workbooks; its file (megabytes) only when asked for,
    not for the progress the page polls every second."""
    if not selectors.is_district_staff(request.user):
        raise PermissionDenied
    workbooks = Workbook.objects.select_related("district", "school").filter(
        district__in=districts_visible_to(request.user))
    return get_object_or_404(workbooks if with_file else workbooks.defer("content"), pk=pk)


@login_required
@require_GET
def workbook_page(request, pk: int):
    w = _workbook_for(request, pk)
    template = ("oversight/_workbook.html" if request.headers.get("HX-Request")
                else "oversight/workbook.html")
    return render(request, template, {"w": w, "percent": int(100 * w.done / w.total)
                                      if w.total else 0})


def _download(request, w: Workbook) -> HttpResponse:
    WorkbookDownload.objects.create(workbook=w, user=request.user)
    return download(bytes(w.content), _workbook_filename(w))


@login_required
@require_GET
def workbook_download(request, pk: int):
    w = _workbook_for(request, pk, with_file=True)
    if w.status != Workbook.Status.DONE:
        raise Http404
    return _download(request, w)
