"""Roster pages: the home page of each role, students and homerooms. Reads go through
schools.selectors; anything outside scope is a 404."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, render

from . import selectors
from .audit import audit_history
from .models import Homeroom, School, Staff, Student


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
    children = list(selectors.children_of(user).prefetch_related("homeroom__head_teacher"))
    headed = list(Homeroom.objects.filter(head_teacher__user=user)
                  .select_related("school", "grade").annotate(n_students=Count("students")))
    school_ids = selectors.school_ids_for(user)
    district_ids = selectors.district_ids_for(user)
    serving_schools = [m.school for m in selectors.memberships_of(user)
                       if m.role == "teacher" and m.school_id]
    districts = list(selectors.districts_visible_to(user).filter(pk__in=district_ids))
    district_schools = _school_overview(
        School.objects.filter(district_id__in=district_ids).values("pk")) if districts else []
    return render(request, "home.html", {
        "children": children,
        "headed_homerooms": headed,
        "serving_schools": serving_schools,
        "own_schools": _school_overview(school_ids) if school_ids else [],
        "districts": districts,
        "district_schools": district_schools,
        "roles": {r["role"] for r in selectors.roles_of(user)},
    })


@login_required
def student_detail(request, pk: int):
    student = get_object_or_404(selectors.students_visible_to(request.user), pk=pk)
    is_staff = selectors.is_staff_of_school(request.user, student.school_id)
    links = (student.guardian_links.select_related("guardian")
             .filter(guardian__in=selectors.guardians_visible_to(request.user)))
    return render(request, "schools/student_detail.html", {
        "student": student,
        "links": links,
        "history": audit_history(student) if is_staff else None,
    })


@login_required
def homeroom_list(request):
    homerooms = (selectors.homerooms_visible_to(request.user)
                 .annotate(n_students=Count("students", filter=Q(students__active=True))))
    if school := request.GET.get("school", "").strip():
        homerooms = homerooms.filter(school_id=int(school) if school.isdigit() else 0)
    return render(request, "schools/homeroom_list.html", {"homerooms": homerooms})


@login_required
def homeroom_detail(request, pk: int):
    homeroom = get_object_or_404(selectors.homerooms_visible_to(request.user), pk=pk)
    students = selectors.students_visible_to(request.user).filter(homeroom=homeroom)
    return render(request, "schools/homeroom_detail.html",
                  {"homeroom": homeroom, "students": students})
