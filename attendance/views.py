"""Attendance pages: the teacher's sessions of the day and a session (roll call, incidents,
handoffs, the record), the principal's day, and a child's page for the guardian (attendance,
today's pickup code, who may take the child). Thin: each form posts to the same service as the
API; every form carries a `client_id` made when the page was drawn, so sending it twice
writes once."""

import datetime
import uuid

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from schools.errors import DomainError
from schools.models import School
from schools.params import choice_param, date_param, int_param
from schools.selectors import children_of, current_term

from . import selectors, services
from .models import Handoff, Incident, Mark, PickupAdult
from .pickup import daily_code


def _client_id(post) -> uuid.UUID:
    """The form's client_id, drawn with the page: a resend of the same form writes once."""
    try:
        return uuid.UUID(post.get("client_id", ""))
    except ValueError:
        raise DomainError(_("页面已过期，请刷新后重试。"), field="client_id") from None


@login_required
def today(request):
    """The top bar's 接送 entry: a serving teacher's sessions of the day; the principal, office
    or duty leader's day; a guardian's children."""
    day = date_param(request.GET, "date") or timezone.localdate()
    sessions = list(selectors.sessions_visible_to(request.user).filter(
        date=day, teacher__user=request.user))
    if not sessions and selectors.schools_whose_day(request.user):
        return redirect("attendance:day", date=day.isoformat())
    return render(request, "attendance/today.html", {
        "day": day, "sessions": sessions, "children": children_of(request.user)})


def _session_post(request, session) -> None:
    action = request.POST.get("action")
    user, post = request.user, request.POST
    client_id = _client_id(post)
    if action == "roll":
        expected = selectors.expected_in(session)
        marks = []
        for i, e in enumerate(expected):
            status = post.get(f"status-{e.student.pk}") or (
                Mark.Status.LEAVE if e.leave else Mark.Status.PRESENT)
            if status not in Mark.Status.values:
                status = Mark.Status.PRESENT
            marks.append({"student": e.student.pk, "status": status,
                          "client_id": uuid.uuid5(client_id, str(i))})
        services.roll_call(session=session, user=user, marks=marks)
        messages.success(request, _("点名已提交。"))
    elif action == "handoff":
        to = post.get("released_to") or Handoff.To.GUARDIAN
        data = {"student": int_param(post, "student"), "released_to": to,
                "pickup_person": post.get("pickup_person", "")[:20],
                "pickup_code": post.get("pickup_code", "").strip()[:10],
                "transfer_to": int_param(post, "transfer_to")}
        if to not in Handoff.To.values or data["student"] is None:
            raise DomainError(_("请选择学生和去向。"))
        reply = services.handoff_release(session=session, user=user, data=data,
                                         client_id=client_id)
        if reply.status < 300:
            messages.success(request, _("已交接：%(who)s") % {
                "who": reply.body.get("person_name") or Handoff.To(to).label})
        else:
            messages.error(request, reply.body.get("detail", ""))
    elif action == "incident":
        kind = post.get("kind")
        note = post.get("note", "").strip()[:1000]
        if kind not in Incident.Kind.values or not note:
            raise DomainError(_("请选择事件类型并填写情况说明。"), field="note")
        services.incident_report(session=session, user=user,
                                 student_id=int_param(post, "student"), kind=kind, note=note,
                                 client_id=client_id)
        messages.success(request, _("事件已记录，家长已收到通知。"))
    elif action == "resolve":
        incident = get_object_or_404(session.incidents.all(), pk=int_param(post, "incident"))
        services.incident_resolve(incident=incident, user=user, resolution=choice_param(
            post, "resolution", Incident.Resolution) or Incident.Resolution.OTHER)
    elif action == "record":
        content = post.get("content", "").strip()[:2000]
        if not content:
            raise DomainError(_("请填写服务内容。"), field="content")
        services.service_record_write(session=session, user=user, content=content,
                                      notes=post.get("notes", "").strip()[:2000],
                                      client_id=client_id)
        messages.success(request, _("服务记录已保存。"))


@login_required
@require_http_methods(["GET", "POST"])
def session(request, pk: int):
    s = get_object_or_404(selectors.sessions_visible_to(request.user), pk=pk)
    if request.method == "POST":
        s = selectors.session_for_teacher(request.user, pk)
        try:
            _session_post(request, s)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("attendance:session", pk=s.pk)
    expected = selectors.expected_in(s)
    page = uuid.uuid4()  # each form's client_id derives from it: a resend writes once
    for e in expected:
        e.client_id = uuid.uuid5(page, f"handoff-{e.student.pk}")
        e.status_label = Mark.Status(e.status).label if e.status else ""
    later = selectors.sessions_of_day(s.school_id, s.date).filter(start__gte=s.end)
    return render(request, "attendance/session.html", {
        "s": s, "expected": expected,
        "ids": {k: uuid.uuid5(page, k) for k in ("roll", "incident", "record")},
        "is_teacher": s.teacher is not None and s.teacher.user_id == request.user.pk,
        "later": later, "record": s.records.first(),
        "waiting": sum(1 for e in expected if e.present and e.handoff is None),
        "kinds": Incident.Kind.choices, "resolutions": Incident.Resolution.choices})


@login_required
@require_http_methods(["GET", "POST"])
def day(request, date: str):
    try:
        the_day = datetime.date.fromisoformat(date)
    except ValueError as exc:
        raise Http404 from exc
    schools = selectors.schools_whose_day(request.user)
    if not schools:
        raise Http404
    school = School.objects.filter(pk__in=schools).order_by("pk").first()
    if request.method == "POST":
        try:
            services.day_close(school=school, day=the_day, user=request.user)
            messages.success(request, _("日终确认完成。"))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("attendance:day", date=the_day.isoformat())
    return render(request, "attendance/day.html", {
        "school": school, "d": selectors.day_of(school.pk, the_day),
        "previous": the_day - datetime.timedelta(days=1),
        "next": the_day + datetime.timedelta(days=1)})


def _qr(code: str) -> str:
    return segno.make(code, micro=False).svg_inline(scale=6, dark="#111")


@login_required
@require_http_methods(["GET", "POST"])
def child(request, pk: int):
    """The guardian's page for one child; the school's staff read the attendance only."""
    own = children_of(request.user).filter(pk=pk).first()
    student = own or get_object_or_404(selectors.children_for_attendance(request.user), pk=pk)
    if request.method == "POST":
        if own is None:
            raise Http404
        try:
            _child_post(request, own)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("attendance:child", pk=pk)
    today_ = timezone.localdate()
    term = current_term(student.school_id, today_, or_next=True)
    lines = selectors.attendance_of(student, term.start, min(term.end, today_)) if term else []
    context = {"student": student, "own": own is not None, "lines": lines[::-1], "today": today_}
    if own is not None:
        code = daily_code(student.pk, today_)
        context.update(
            code=code, qr=_qr(code), adults=PickupAdult.objects.filter(student=student),
            delegations=student.delegations.filter(date__gte=today_, revoked_at__isnull=True),
            walk_home=student.walk_home.filter(valid_to__gte=today_, revoked_at__isnull=True),
            allows_walk_home=student.school.allows_walk_home,
            open_incidents=[i for line in lines for i in line.incidents
                            if i.acknowledged_at is None])
    return render(request, "attendance/child.html", context)


def _child_post(request, student) -> None:
    post, user = request.POST, request.user
    action = post.get("action")
    if action == "add_adult":
        services.pickup_adult_add(
            student=student, user=user, name=post.get("name", ""),
            relation=post.get("relation", ""), phone=post.get("phone", ""),
            valid_from=date_param(post, "valid_from"),
            valid_to=date_param(post, "valid_to"))
        messages.success(request, _("已添加授权接送人。"))
    elif action == "revoke_adult":
        adult = get_object_or_404(student.pickup_adults.all(), pk=int_param(post, "adult"))
        services.pickup_adult_revoke(adult=adult, user=user)
        messages.success(request, _("已撤销授权。"))
    elif action == "delegate":
        d = services.delegation_give(student=student, user=user, name=post.get("name", ""),
                                     phone=post.get("phone", ""),
                                     date=date_param(post, "date")
                                     or timezone.localdate())
        messages.success(request, _("当日委托已生成，接送码 %(code)s，请转告 %(name)s。")
                         % {"code": d.code, "name": d.name})
    elif action == "walk_home":
        start = date_param(post, "valid_from")
        end = date_param(post, "valid_to")
        if start is None or end is None:
            raise DomainError(_("请填写开始和结束日期。"), field="valid_from")
        services.walk_home_sign(student=student, user=user, valid_from=start, valid_to=end,
                                signed_name=post.get("signed_name", ""))
        messages.success(request, _("自行离校许可已签署。"))
    elif action == "acknowledge":
        incident = get_object_or_404(Incident.objects.filter(student=student),
                                     pk=int_param(post, "incident"))
        services.incident_acknowledge(incident=incident, user=user)
    elif action == "dispute":
        handoff = get_object_or_404(Handoff.objects.filter(student=student),
                                    pk=int_param(post, "handoff"))
        services.handoff_dispute(handoff=handoff, user=user, note=post.get("note", "")[:500])
        messages.success(request, _("已通知学校，学校会立即核实。"))
