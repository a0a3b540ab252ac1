"""Scheduling pages: the principal's activities, weekly menu, publication and allocation; the
guardian's choices and child's week; class lists (printable) with the moves after allocation;
a teacher's and a room's week. Thin: forms parse, services decide, selectors scope."""

import datetime
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from enrollment.selectors import leaves_on
from schools.audit import audit_history, audit_summary
from schools.errors import DomainError, form_add_error
from schools.formats import weekday_name
from schools.models import MANAGER_ROLES, School, Student
from schools.params import date_param, int_param, text_param
from schools.selectors import (
    children_of,
    monday_of,
    school_ids_for,
    schools_visible_to,
    students_visible_to,
)

from . import selectors, services
from .forms import (
    ActivityForm,
    AllocateForm,
    ChoiceForm,
    ItemForm,
    MemberAddForm,
    MenuCreateForm,
    MoveForm,
    PublishForm,
    SwapForm,
)
from .models import Choice, Menu, MenuItem, Placement, TemporaryClass


def _managed_school(request) -> School:
    school = (schools_visible_to(request.user)
              .filter(pk__in=school_ids_for(request.user, MANAGER_ROLES))
              .order_by("pk").first())
    if school is None:
        raise Http404
    return school


@login_required
def menu_list(request):
    """Principal: the school's menus and a new week; guardian: published menus to choose."""
    managed = selectors.menus_managed_by(request.user)
    if school_ids_for(request.user, MANAGER_ROLES):
        school = _managed_school(request)
        today = timezone.localdate()
        next_week = monday_of(today) + datetime.timedelta(days=7)
        form = MenuCreateForm(request.POST or None, initial={"week": next_week})
        if request.method == "POST" and form.is_valid():
            try:
                menu = services.menu_create(school=school, user=request.user,
                                            week=form.cleaned_data["week"],
                                            choice_deadline=form.cleaned_data["choice_deadline"],
                                            copy_previous=form.cleaned_data["copy_previous"])
            except DomainError as error:
                form_add_error(form, error)
            else:
                messages.success(request, _("已新建菜单。"))
                return redirect(menu)
        menus = managed.filter(school=school).annotate(n_items=Count("items")).order_by("-week")
        return render(request, "scheduling/menu_list.html",
                      {"menus": menus, "form": form, "school": school, "managing": True})
    menus = (selectors.menus_visible_to(request.user).exclude(status=Menu.Status.DRAFT)
             .order_by("-week")[:12])
    return render(request, "scheduling/menu_list.html",
                  {"menus": menus, "children": children_of(request.user), "managing": False})


def _slot_groups(items) -> list[tuple]:
    groups = defaultdict(list)
    for item in items:
        groups[item.slot].append(item)
    return sorted(groups.items(), key=lambda kv: (kv[0].weekday, kv[0].start))


WHY_LEFT_OUT = {
    "full": _lazy("已满"),
    "grade": _lazy("不对该年级开放"),
    "beyond": _lazy("超出志愿数"),
    "withdrawn": _lazy("已从菜单移除"),
}


def _run_report(menu: Menu, run) -> dict | None:
    """The latest allocation (preview or confirmed), slot by slot, with names: the children
    left out are named to the principal, who decides with them."""
    slots = run.stats.get("report")
    if slots is None:
        return None
    grade_names = dict(menu.school.grades.values_list("number", "name"))
    names = {i["item"]: i["name"] for slot in slots for i in slot["offers"]}
    students = Student.objects.select_related("homeroom").in_bulk(
        [c["student"] for slot in slots for c in slot["left_out"]])
    for slot in slots:
        for offer in slot["offers"]:
            offer["placed_total"] = sum(offer["placed"])
        for child in slot["left_out"]:
            child["who"] = students.get(child["student"])
            child["ranked"] = [(names.get(item, "—"), WHY_LEFT_OUT.get(why, why))
                               for item, why in child["ranked"]]
        for hall in slot["study_halls"]:
            hall["name"] = grade_names.get(hall["grade"], hall["grade"])
    return {"run": run, "slots": slots, "stats": run.stats}


@login_required
def menu_detail(request, pk: int):
    menu = get_object_or_404(selectors.menus_visible_to(request.user), pk=pk)
    managing = selectors.menus_managed_by(request.user).filter(pk=pk).exists()
    items = list(selectors.items_of(menu).annotate(n_choices=Count("choices")))
    context = {"menu": menu, "groups": _slot_groups(items), "managing": managing,
               "deadline_passed": timezone.now() >= menu.choice_deadline}
    if managing:
        form = ItemForm(request.POST or None, menu=menu)
        if request.method == "POST" and form.is_valid():
            try:
                services.menu_items_add(menu=menu, user=request.user,
                                        activity=form.cleaned_data["activity"],
                                        slots=form.cleaned_data["slots"],
                                        capacity=form.cleaned_data["capacity"],
                                        end=form.cleaned_data["end"])
            except DomainError as error:
                form_add_error(form, error)
            else:
                messages.success(request, _("已加入菜单。"))
                return redirect(menu)
        problems, warnings = services.menu_check(menu)
        runs = list(menu.runs.select_related("created_by").order_by("-created_at")[:5])
        context |= {"form": form, "problems": problems, "warnings": warnings,
                    "publish_form": PublishForm(), "allocate_form": AllocateForm(),
                    "runs": runs,
                    "report": _run_report(menu, runs[0]) if runs else None,
                    "history": audit_summary(menu)}
    else:
        children = [c for c in children_of(request.user) if c.school_id == menu.school_id]
        enrolled = set(selectors.enrolled_in_week(menu).filter(student__in=children)
                       .values_list("student_id", flat=True))
        context["children"] = [(c, c.pk in enrolled) for c in children]
        # A guardian sees what their enrolled children's grades may take, not the whole menu.
        grades = {c.grade.number for c in children if c.pk in enrolled}
        if grades:
            context["groups"] = _slot_groups([i for i in items if grades & set(i.grades)])
            context["filtered_grades"] = sorted(grades)
    return render(request, "scheduling/menu.html", context)


@login_required
@require_POST
def item_remove(request, pk: int, item_pk: int):
    menu = get_object_or_404(selectors.menus_managed_by(request.user), pk=pk)
    item = get_object_or_404(MenuItem, menu=menu, pk=item_pk)
    try:
        services.menu_item_remove(item=item, user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect(menu)


@login_required
@require_POST
def menu_publish(request, pk: int):
    menu = get_object_or_404(selectors.menus_managed_by(request.user), pk=pk)
    form = PublishForm(request.POST)
    form.is_valid()
    try:
        services.menu_publish(menu=menu, user=request.user,
                              acknowledge_warnings=form.cleaned_data.get("acknowledge_warnings",
                                                                         False))
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("菜单已发布，已通知家长选课。"))
    return redirect(menu)


@login_required
@require_POST
def menu_allocate(request, pk: int):
    menu = get_object_or_404(selectors.menus_managed_by(request.user), pk=pk)
    form = AllocateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("随机种子只能包含字母、数字、下划线和连字符。"))
        return redirect(menu)
    preview = form.cleaned_data["preview"]
    try:
        stats = services.menu_allocate(menu=menu, user=request.user, commit=not preview,
                                       seed=form.cleaned_data["seed"] or None)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(menu)
    summary = _("按时段计，排到第一志愿 %(first)s 人次、第二志愿 %(second)s、第三志愿 %(third)s；"
                "填了志愿但都没排上 %(unplaced)s（其中优先保障 %(priority)s），没有填志愿 "
                "%(none)s，这两类进托管自习；共 %(classes)s 个临时班。") % {
        "first": stats["first_choice"], "second": stats["second_choice"],
        "third": stats["third_choice"], "unplaced": stats["unplaced"],
        "priority": stats["priority_unplaced"], "none": stats["no_choice"],
        "classes": stats["classes"]}
    if preview:
        messages.info(request, _("预览（未保存）：") + summary)
        return redirect(menu.get_absolute_url() + "#report")
    messages.success(request, _("分班完成：") + summary)
    return redirect("scheduling:classes", menu.pk)


@login_required
def class_list(request, pk: int):
    menu = get_object_or_404(selectors.menus_visible_to(request.user), pk=pk)
    classes = (selectors.temporary_classes_visible_to(request.user).filter(menu=menu)
               .annotate(n=Count("placements")).order_by("slot__weekday", "slot__start",
                                                          "kind", "name"))
    groups = defaultdict(list)
    for cls in classes:
        groups[cls.slot].append(cls)
    waiting = []
    if (menu.status == Menu.Status.ALLOCATED
            and selectors.menus_managed_by(request.user).filter(pk=pk).exists()):
        by_slot_grade = defaultdict(list)
        for row in selectors.unseated(menu):
            by_slot_grade[(row.slot, row.student.grade)].append(row.student)
        waiting = [(slot, grade, students) for (slot, grade), students in
                   by_slot_grade.items()]
    return render(request, "scheduling/classes.html", {
        "menu": menu, "waiting": waiting,
        "groups": sorted(groups.items(), key=lambda kv: (kv[0].weekday, kv[0].start))})


@login_required
@require_POST
def study_hall_open(request, pk: int):
    """The one click that seats children who joined after the allocation and found their
    grade's study halls full: a new study hall for them."""
    menu = get_object_or_404(selectors.menus_managed_by(request.user), pk=pk)
    slot = menu.term.slots.filter(pk=int_param(request.POST, "slot") or 0).first()
    if slot is None:
        messages.error(request, _("请选择时段。"))
        return redirect("scheduling:classes", menu.pk)
    try:
        hall = services.study_hall_open(menu=menu, slot=slot,
                                        grade=int_param(request.POST, "grade") or 0,
                                        user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("scheduling:classes", menu.pk)
    messages.success(request, _("已新开 %s 并安排等待的学生。") % hall.name)
    return redirect(hall)


@login_required
def class_detail(request, pk: int):
    cls = get_object_or_404(selectors.temporary_classes_visible_to(request.user), pk=pk)
    managing = selectors.classes_managed_by(request.user).filter(pk=pk).exists()
    placements = cls.placements.select_related("student__grade", "student__homeroom")
    own = selectors.own_children_only(request, cls)
    if own is not None:
        # A guardian sees the class's name, teacher and room, and their own children only.
        placements = placements.filter(student_id__in=own)
    add_form = MemberAddForm(prefix="add")
    if managing and request.method == "POST":
        response = _class_post(request, cls)
        if response is not None:
            return response
        add_form = MemberAddForm(request.POST, prefix="add")
    # The day the class meets this week, and who has reported leave for it (R10).
    day = selectors.week_slot_days(cls.menu, [cls.slot]).get(cls.slot_id)
    placements = list(placements)
    on_leave = {lv.student_id: lv for lv in leaves_on(
        day, slot=cls.slot_id, students=[p.student_id for p in placements])} if day else {}
    for p in placements:
        p.leave = on_leave.get(p.student_id)
    return render(request, "scheduling/class.html", {
        "cls": cls, "placements": placements, "day": day, "managing": managing,
        "add_form": add_form,
        "move_form": MoveForm(cls=cls, auto_id=False), "swap_form": SwapForm(),
        "history": audit_history(cls) if managing else []})


def _class_post(request, cls: TemporaryClass):
    action = request.POST.get("action")
    try:
        if action == "add":
            form = MemberAddForm(request.POST, prefix="add")
            if not form.is_valid():
                return None
            placement = services.placement_add_to_class(
                temporary_class=cls, student_no=form.cleaned_data["student_no"],
                user=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("已加入 %s。") % placement.student.name)
        elif action == "move":
            form = MoveForm(request.POST, cls=cls)
            if not form.is_valid():
                messages.error(request, _("请选择要调到的临时班。"))
                return redirect(cls)
            placement = get_object_or_404(Placement, temporary_class=cls,
                                          pk=form.cleaned_data["placement"])
            services.placement_move(placement=placement, to=form.cleaned_data["to"],
                                    user=request.user)
            messages.success(request, _("已调班。"))
        elif action == "swap":
            form = SwapForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请输入学号。"))
                return redirect(cls)
            first = get_object_or_404(Placement, temporary_class=cls,
                                      pk=form.cleaned_data["first"])
            services.placement_swap_with_student_no(
                first=first, student_no=form.cleaned_data["second_student_no"],
                user=request.user)
            messages.success(request, _("已对调。"))
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect(cls)


@login_required
def choose(request, pk: int, student_pk: int):
    """The guardian ranks, per slot the child is enrolled in, up to the school's number of
    choices among the activities open to the child's grade."""
    menu = get_object_or_404(selectors.menus_visible_to(request.user)
                             .exclude(status=Menu.Status.DRAFT), pk=pk)
    student = get_object_or_404(children_of(request.user), pk=student_pk,
                                school_id=menu.school_id)
    slots = selectors.enrolled_slots(menu, student)
    items = [i for i in selectors.items_of(menu) if student.grade.number in i.grades]
    current = defaultdict(list)
    for c in Choice.objects.filter(menu=menu, student=student).order_by("rank"):
        current[c.slot_id].append(c.item_id)
    k = menu.school.choices_per_slot
    forms = [ChoiceForm(request.POST or None, prefix=f"s{slot.pk}", slot=slot,
                        items=[i for i in items if i.slot_id == slot.pk], choices=k,
                        initial_ranked=current[slot.pk]) for slot in slots]
    open_ = menu.status == Menu.Status.PUBLISHED and timezone.now() < menu.choice_deadline
    if request.method == "POST" and all(f.is_valid() for f in forms):
        try:
            services.choices_set_many(menu=menu, student=student, user=request.user,
                                      rankings=[(form.slot, form.ranked()) for form in forms])
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("已保存 %s 的志愿。") % student.name)
            return redirect("scheduling:choose", menu.pk, student.pk)
    return render(request, "scheduling/choose.html", {
        "menu": menu, "student": student, "forms": forms, "open": open_, "choices": k})


def _week(request) -> datetime.date:
    return monday_of(date_param(request.GET, "week") or timezone.localdate())


def _week_nav(week: datetime.date) -> dict:
    return {"week": week, "prev_week": week - datetime.timedelta(days=7),
            "next_week": week + datetime.timedelta(days=7)}


def _by_weekday(classes) -> list[tuple[str, list[TemporaryClass]]]:
    """A week's classes (ordered by weekday and start) as a card per weekday on the page."""
    days = defaultdict(list)
    for cls in classes:
        days[cls.slot.weekday].append(cls)
    return [(weekday_name(weekday), day) for weekday, day in days.items()]


@login_required
def student_week(request, pk: int):
    student = get_object_or_404(students_visible_to(request.user), pk=pk)
    week = _week(request)
    menu, rows = selectors.child_week(student, week)
    return render(request, "scheduling/student_week.html", {
        "student": student, "menu": menu, "rows": rows, "today": timezone.localdate(),
        **_week_nav(week),
        "is_guardian": children_of(request.user).filter(pk=student.pk).exists()})


@login_required
def teacher_week(request):
    staff = selectors.staff_of(request.user)
    if staff is None:
        raise Http404
    week = _week(request)
    classes = (TemporaryClass.objects.filter(head_teacher=staff, menu__week=week)
               .select_related("slot").annotate(n=Count("placements"))
               .order_by("slot__weekday", "slot__start"))
    return render(request, "scheduling/teacher_week.html", {
        "staff": staff, "days": _by_weekday(classes), **_week_nav(week)})


@login_required
def room_week(request):
    school = _managed_school(request)
    week = _week(request)
    rooms = sorted(set(TemporaryClass.objects.filter(menu__school=school, menu__week=week)
                       .exclude(room="").values_list("room", flat=True)))
    room = text_param(request.GET, "room", max_length=60) or (rooms[0] if rooms else "")
    classes = (TemporaryClass.objects.filter(menu__school=school, menu__week=week, room=room)
               .select_related("slot", "head_teacher").annotate(n=Count("placements"))
               .order_by("slot__weekday", "slot__start"))
    return render(request, "scheduling/room_week.html", {
        "rooms": rooms, "room": room, "days": _by_weekday(classes), **_week_nav(week)})


@login_required
def activities(request):
    school = _managed_school(request)
    form = ActivityForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        try:
            services.activity_create(school=school, user=request.user, **data)
        except DomainError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("已添加活动。"))
            return redirect("scheduling:activities")
    return render(request, "scheduling/activities.html", {
        "school": school, "form": form,
        "activities": school.activities.select_related("teacher").order_by("category", "name")})
