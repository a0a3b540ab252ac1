"""The home page: each role lands on its to-do list — what to do next, how many, by when —
and its figures. It sits above every stage and reads them through their selectors."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import render

from schools.models import Homeroom, Role, School, Staff, Student
from schools.selectors import (
    children_of,
    district_ids_for,
    districts_visible_to,
    has_role,
    memberships_of,
    school_ids_for,
)

from . import todo

MANAGING = (Role.PRINCIPAL, Role.OFFICE)


def _count(model, **filters):
    """A correlated COUNT per school: three joined Counts would multiply the rows."""
    return Coalesce(Subquery(
        model.objects.filter(school=OuterRef("pk"), **filters).order_by()
        .values("school").annotate(n=Count("pk")).values("n")[:1]), 0)


def _schools(ids) -> list[School]:
    return list(
        School.objects.filter(pk__in=ids).select_related("district")
        .annotate(n_students=_count(Student, active=True), n_homerooms=_count(Homeroom),
                  n_staff=_count(Staff, active=True))
        .order_by("code"))


@login_required
def home(request):
    user = request.user
    now, today = todo.now_and_today()
    children = list(children_of(user).select_related("school", "homeroom__grade",
                                                     "homeroom__head_teacher", "grade"))
    headed = list(Homeroom.objects.filter(head_teacher__user=user)
                  .select_related("school", "grade").annotate(n_students=Count("students")))
    own_schools = _schools(school_ids_for(user))
    managed = [s for s in own_schools if has_role(user, *MANAGING, school=s)]
    district_ids = district_ids_for(user)
    districts = list(districts_visible_to(user).filter(pk__in=district_ids))
    serves = any(m.role == Role.TEACHER for m in memberships_of(user))
    context = {
        "today": today,
        "children": [todo.child_card(child, today, now) for child in children],
        "homeroom_steps": todo.homeroom_steps(user, headed) if headed else [],
        "headed_homerooms": headed,
        "teacher_steps": todo.teacher_steps(user, today) if (serves or headed) else None,
        "managed": [(s, todo.manager_steps(user, s, today, now)) for s in managed],
        "school_figures": todo.school_figures(own_schools, today) if own_schools else [],
        "districts": districts,
        "district_figures": todo.school_figures(
            _schools(School.objects.filter(district_id__in=district_ids).values("pk")), today)
        if districts else [],
    }
    context["nothing"] = not any(context[k] for k in (
        "children", "headed_homerooms", "teacher_steps", "school_figures", "districts"))
    return render(request, "portal/home.html", context)
