"""The home page: each role's landing page, with what they have to do and their figures. It
sits above every stage and reads them through their selectors."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import render

from schools.models import Homeroom, School, Staff, Student
from schools.selectors import (
    children_of,
    district_ids_for,
    districts_visible_to,
    memberships_of,
    roles_of,
    school_ids_for,
)


def _count(model, **filters):
    """A correlated COUNT per school: three joined Counts would multiply the rows."""
    return Coalesce(Subquery(
        model.objects.filter(school=OuterRef("pk"), **filters).order_by()
        .values("school").annotate(n=Count("pk")).values("n")[:1]), 0)


def _school_overview(school_ids) -> list[School]:
    return list(
        School.objects.filter(pk__in=school_ids).select_related("district")
        .annotate(n_students=_count(Student, active=True), n_homerooms=_count(Homeroom),
                  n_staff=_count(Staff, active=True))
        .order_by("code"))


@login_required
def home(request):
    user = request.user
    children = list(children_of(user).prefetch_related("homeroom__head_teacher"))
    headed = list(Homeroom.objects.filter(head_teacher__user=user)
                  .select_related("school", "grade").annotate(n_students=Count("students")))
    school_ids = school_ids_for(user)
    district_ids = district_ids_for(user)
    serving_schools = [m.school for m in memberships_of(user)
                       if m.role == "teacher" and m.school_id]
    districts = list(districts_visible_to(user).filter(pk__in=district_ids))
    district_schools = _school_overview(
        School.objects.filter(district_id__in=district_ids).values("pk")) if districts else []
    return render(request, "portal/home.html", {
        "children": children,
        "headed_homerooms": headed,
        "serving_schools": serving_schools,
        "own_schools": _school_overview(school_ids) if school_ids else [],
        "districts": districts,
        "district_schools": district_schools,
        "roles": {r["role"] for r in roles_of(user)},
    })
