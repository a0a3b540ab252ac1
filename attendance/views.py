"""Attendance pages: the teacher's sessions of the day and a session (roll call, incidents,
handoffs, the record), the principal's day, and a child's page for the guardian (attendance,
today's pickup code, who may take the child). Thin: each form posts to the same service as the
API; every form carries a `client_id` made when the page was drawn, so sending it twice
writes once."""

import datetime
import hashlib
import secrets
import uuid

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from schools.errors import DomainError
from schools.models import MANAGER_ROLES, School, Staff
from schools.params import choice_param, date_param, int_param, text_param
from schools.selectors import children_of, current_term, school_ids_for

from . import records, selectors, services
from .models import Delegation, Handoff, Incident, Mark, PickupAdult
from .pickup import daily_code


def _text(post, name: str, max_length: int) -> str:
    """A form's free text: a control character (a NUL the database refuses) or an over-long
    value is a message naming the field, never a 500."""
    return text_param(post, name, max_length=max_length) or ""


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
                "pickup_person": _text(post, "pickup_person", 20),
                "pickup_code": _text(post, "pickup_code", 10),
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
        note = _text(post, "note", 1000)
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
        content = _text(post, "content", 2000)
        if not content:
            raise DomainError(_("请填写服务内容。"), field="content")
        services.service_record_write(session=session, user=user, content=content,
                                      notes=_text(post, "notes", 2000),
                                      client_id=client_id)
        messages.success(request, _("服务记录已保存。"))


@login_required
@require_http_methods(["GET", "POST"])
def session(request, pk: int):
    s = get_object_or_404(selectors.sessions_visible_to(request.user), pk=pk)
    manages = s.school_id in selectors.schools_whose_day(request.user)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "substitute" and manages:
                _substitute(request, s)
            else:
                _session_post(request, selectors.session_for_teacher(request.user, pk))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("attendance:session", pk=s.pk)
    expected = selectors.expected_in(s)
    page = uuid.uuid4()  # each form's client_id derives from it: a resend writes once
    for e in expected:
        e.client_id = uuid.uuid5(page, f"handoff-{e.student.pk}")
        e.status_label = Mark.Status(e.status).label if e.status else ""
    later = selectors.sessions_of_day(s.school_id, s.date).filter(start__gte=s.end)
    is_teacher = s.teacher is not None and s.teacher.user_id == request.user.pk
    return render(request, "attendance/session.html", {
        "s": s, "expected": expected,
        "ids": {k: uuid.uuid5(page, k) for k in ("roll", "incident", "record")},
        "is_teacher": is_teacher, "before_lessons": s.slot.kind in services.BEFORE_LESSONS,
        "offline": _offline(s, expected) if is_teacher else None,
        "later": later, "record": s.records.first(),
        "staff": (Staff.objects.filter(school_id=s.school_id, active=True).order_by("name")
                  if manages else None),
        "waiting": sum(1 for e in expected if e.present and e.handoff is None),
        "kinds": Incident.Kind.choices, "resolutions": Incident.Resolution.choices})


def _substitute(request, session) -> None:
    """The principal, office or duty leader names who serves the session."""
    session = services.session_set_teacher(
        session=session, teacher=int_param(request.POST, "teacher"), user=request.user,
        reason=_text(request.POST, "reason", 200))
    messages.success(request, _("已安排 %(name)s 服务这个课次。") % {"name": session.teacher.name})


def _offline(session, expected) -> dict:
    """What the tablet needs to go on when the network drops, drawn into the page the service
    worker keeps: where to send each write, and digests of the codes valid today so a code typed
    at the door is checked without the server. The digests (salted per page) keep the codes off
    the screen and out of the page's text, but a six-digit code is found from its digest by
    trying them all: what protects them is that only the serving teacher's page carries them,
    for that day, in a copy the tablet drops at sign-out; and the server checks every code
    again when the write arrives."""
    ids = [e.student.pk for e in expected]
    codes = {pk: [daily_code(pk, session.date)] for pk in ids}
    for student_id, code in Delegation.objects.filter(
            student_id__in=ids, date=session.date, revoked_at__isnull=True).values_list(
            "student_id", "code"):
        codes[student_id].append(code)
    salt = secrets.token_hex(8)
    return {"session": session.pk, "date": session.date.isoformat(), "salt": salt,
            "api": reverse("api-session-detail", args=[session.pk]), "text": _tablet_text(),
            "tz": timezone.get_current_timezone_name(),
            "codes": {str(pk): [hashlib.sha256(f"{salt}:{pk}:{c}".encode()).hexdigest()
                                for c in cs] for pk, cs in codes.items()}}


def _tablet_text() -> dict:
    return {
        "waiting": _("待发送 (%(n)s)"), "waiting_one": _("待发送"), "sent": _("已发送"),
        "refused": _("未被接受"), "handed": _("已交给 %(who)s · %(at)s"),
        "offline": _("网络已断开：记录保存在平板上，联网后自动发送。"),
        "signed_out": _("登录已过期：请重新登录，待发送的记录不会丢失。"),
        "by_code": _("持接送码的人"), "code_refused": _("接送码不符：请勿放行，核实来人身份。"),
        "code_unchecked": _("离线时无法核对接送码：请从名单中选择接送人，或等网络恢复。"),
        "roll": _("点名"), "roll_sent": _("已点名"), "roll_waiting": _("点名待发送"),
        "record": _("服务记录"), "choose_person": _("请选择接送人，或输入接送码。")}


@require_GET
@never_cache
def service_worker(request):
    """The tablet's service worker, served from the attendance pages' own path so that it
    controls them: it keeps the day's session pages and the assets they load, and answers from
    them when the network is gone."""
    return HttpResponse(render_to_string("attendance/sw.js", request=request),
                        content_type="text/javascript; charset=utf-8")


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
    manages = own is None and student.school_id in selectors.schools_whose_day(request.user)
    if request.method == "POST":
        if own is None and not manages:
            raise Http404
        try:
            if own is not None:
                _child_post(request, own)
            else:
                services.restricted_adult_record(
                    student=student, user=request.user, name=_text(request.POST, "name", 50),
                    phone=_text(request.POST, "phone", 20),
                    reason=_text(request.POST, "reason", 200))
                messages.success(request, _("已登记。把孩子交给此人会被拒绝，并立即通知校长。"))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("attendance:child", pk=pk)
    today_ = timezone.localdate()
    term = current_term(student.school_id, today_, or_next=True)
    lines = selectors.attendance_of(student, term.start, min(term.end, today_)) if term else []
    context = {"student": student, "own": own is not None, "lines": lines[::-1], "today": today_,
               "restricted": student.restricted_adults.filter(lifted_at__isnull=True)
               if manages else None}
    if own is not None:
        code = daily_code(student.pk, today_)
        context.update(
            # The notice of a handoff leads here: the latest releases come first, each with
            # its "that was not us".
            recent=Handoff.objects.filter(
                student=student, occurred_at__gte=timezone.now() - datetime.timedelta(days=1))
            .select_related("session__temporary_class").prefetch_related("disputes")
            .order_by("-occurred_at"),
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
            student=student, user=user, name=_text(post, "name", 50),
            relation=_text(post, "relation", 20), phone=_text(post, "phone", 20),
            valid_from=date_param(post, "valid_from"),
            valid_to=date_param(post, "valid_to"))
        messages.success(request, _("已添加授权接送人。"))
    elif action == "revoke_adult":
        adult = get_object_or_404(student.pickup_adults.all(), pk=int_param(post, "adult"))
        services.pickup_adult_revoke(adult=adult, user=user)
        messages.success(request, _("已撤销授权。"))
    elif action == "delegate":
        d = services.delegation_give(student=student, user=user, name=_text(post, "name", 50),
                                     phone=_text(post, "phone", 20),
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
                                signed_name=_text(post, "signed_name", 50))
        messages.success(request, _("自行离校许可已签署。"))
    elif action == "acknowledge":
        incident = get_object_or_404(Incident.objects.filter(student=student),
                                     pk=int_param(post, "incident"))
        services.incident_acknowledge(incident=incident, user=user)
    elif action == "dispute":
        handoff = get_object_or_404(Handoff.objects.filter(student=student),
                                    pk=int_param(post, "handoff"))
        services.handoff_dispute(handoff=handoff, user=user, note=_text(post, "note", 500))
        messages.success(request, _("已通知学校，学校会立即核实。"))


@login_required
def week(request, pk: int):
    """The weekly activity record of the class's head teacher (R9): every class they head that
    week, printable; the archived snapshots once the term has ended."""
    visible = records.class_weeks_visible_to(request.user)
    cls = get_object_or_404(visible, pk=pk)
    children = records.sees_children_in_record(request.user, cls)
    return render(request, "attendance/week.html", {
        "cls": cls, "w": records.head_teacher_week(cls, visible, children=children)})


def _month_of(label: str) -> datetime.date:
    """A month of the calendar whose neighbours exist too (the page links to both)."""
    try:
        first = datetime.date.fromisoformat(f"{label}-01")
    except ValueError as exc:
        raise Http404 from exc
    if not datetime.MINYEAR < first.year < datetime.MAXYEAR:
        raise Http404
    return first


@login_required
@require_http_methods(["GET", "POST"])
def month(request, month: str):
    """The month's table of teachers' service attendance (R9). The principal or office sees
    the figures as they stand and publishes them once the month is over; the school's staff
    read what was published."""
    first = _month_of(month)
    managed = school_ids_for(request.user, MANAGER_ROLES)
    staff = getattr(request.user, "staff_profile", None)
    school_id = min(managed) if managed else (staff.school_id if staff else None)
    if school_id is None:
        raise Http404
    school = get_object_or_404(School, pk=school_id)
    if request.method == "POST":
        if not managed:
            raise Http404
        try:
            services.teacher_month_publish(school=school, month=first, user=request.user)
            messages.success(request, _("已公布，全校教职工已收到通知。"))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("attendance:month", month=month)
    table = records.month_table(school_id, first)
    rows = table.rows if table else (records.teacher_month(school_id, first) if managed else [])
    previous = records.month_start(first - datetime.timedelta(days=1))
    following = records.next_month(first)
    return render(request, "attendance/month.html", {
        "school": school, "month": first, "table": table, "rows": rows, "manages": bool(managed),
        "can_publish": bool(managed) and table is None
        and first < records.month_start(timezone.localdate()),
        "previous": f"{previous:%Y-%m}", "next": f"{following:%Y-%m}"})
