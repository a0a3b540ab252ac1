"""Roster pages: students and homerooms. Reads go through
schools.selectors; anything outside scope is a 404."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from . import selectors
from .audit import audit_history
from .params import int_param


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
    if (school := int_param(request.GET, "school")) is not None:
        homerooms = homerooms.filter(school_id=school)
    return render(request, "schools/homeroom_list.html", {"homerooms": homerooms})


@login_required
def homeroom_detail(request, pk: int):
    homeroom = get_object_or_404(selectors.homerooms_visible_to(request.user), pk=pk)
    students = selectors.students_visible_to(request.user).filter(homeroom=homeroom)
    return render(request, "schools/homeroom_detail.html",
                  {"homeroom": homeroom, "students": students})
