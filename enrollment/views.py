"""Enrollment pages: the guardian's path from the term plan to an enrolment, the homeroom
teacher's class review, the principal's plan, approval queue and figures. Thin: forms check
input, services decide, selectors scope (outside scope = 404)."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from schools.audit import audit_history
from schools.errors import DomainError, form_add_error
from schools.formats import time_label
from schools.models import Role, ServiceSlot, Term
from schools.params import choice_param, int_param
from schools.selectors import (
    children_of,
    has_role,
    is_staff_of_school,
    terms_visible_to,
)

from . import selectors, services
from .api import _client_ip, _guardian_name
from .forms import (
    ApplicationForm,
    BulkForm,
    DecideForm,
    LeaveForm,
    PlanForm,
    ReasonForm,
    SurveyForm,
    WithdrawalForm,
)
from .models import Application, SurveyResponse


@login_required
def overview(request):
    """The guardian's page: each child, the school's current plan, the application and the
    enrolment, with what can be done next. Staff go to their queues."""
    user, today = request.user, timezone.localdate()
    children = list(children_of(user))
    if not children:
        if has_role(user, Role.PRINCIPAL, Role.OFFICE):
            return redirect("enrollment:decide-queue")
        if has_role(user, Role.HOMEROOM_TEACHER):
            return redirect("enrollment:review-queue")
        raise Http404
    rows = [selectors.child_enrollment(child, today) for child in children]
    return render(request, "enrollment/overview.html", {"rows": rows})


@login_required
def plan_detail(request, term_id: int):
    plan = selectors.plan_for(request.user, term_id)
    children = [c for c in children_of(request.user) if c.school_id == plan.term.school_id]
    return render(request, "enrollment/plan.html", {"plan": plan, "children": children})


@login_required
def apply(request, term_id: int, student_id: int):
    student = get_object_or_404(children_of(request.user), pk=student_id)
    term = get_object_or_404(terms_visible_to(request.user), pk=term_id, school=student.school)
    plan = selectors.plan_current(term)
    if plan is None:
        raise Http404
    form = ApplicationForm(request.POST or None, request.FILES or None, term=term,
                           initial={"agreement_version": plan.version})
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_submit(
                applicant=request.user, guardian_name=_guardian_name(request.user),
                student=student, term=term, **_choice(form), signature=_signature(request, form),
                evidence=_evidence(form))
        except DomainError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("报名已提交，请等待班主任审核。"))
            return redirect("enrollment:application", application.pk)
    return render(request, "enrollment/apply.html",
                  {"form": form, "plan": plan, "student": student, "term": term})


def _choice(form) -> dict:
    data = form.cleaned_data
    return {"slots": list(data["slots"]), "priority_claims": data["priority_claims"],
            "note": data["note"], "start_date": data["start_date"]}


def _signature(request, form) -> services.SignatureInput:
    return services.SignatureInput(
        agreement_version=form.cleaned_data["agreement_version"],
        signed_name=form.cleaned_data["signed_name"], ip_address=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300])


def _evidence(form) -> list:
    upload = form.cleaned_data.get("evidence")
    if not upload:
        return []
    return [services.EvidenceInput(code=form.cleaned_data["priority_claims"][0], file=upload)]


def _application_for(user, pk: int) -> Application:
    return get_object_or_404(selectors.applications_visible_to(user), pk=pk)


@login_required
def application_detail(request, pk: int):
    application = _application_for(request.user, pk)
    user = request.user
    is_guardian = children_of(user).filter(pk=application.student_id).exists()
    can_review = selectors.applications_to_review(user).filter(pk=pk).exists()
    can_decide = selectors.applications_to_decide(user).filter(pk=pk).exists()
    staff = is_staff_of_school(user, application.term.school_id)
    return render(request, "enrollment/application.html", {
        "application": application,
        "is_guardian": is_guardian,
        "review_form": ReasonForm() if can_review and
        application.status == Application.Status.SUBMITTED else None,
        "decide_form": DecideForm() if can_decide and
        application.status == Application.Status.CLASS_APPROVED else None,
        "signature": application.signatures.select_related("plan").order_by("-signed_at").first(),
        "history": audit_history(application) if staff else None,
    })


@login_required
def agreement_print(request, pk: int):
    application = _application_for(request.user, pk)
    signature = (application.signatures.select_related("plan", "signer")
                 .order_by("-signed_at").first())
    if signature is None:
        raise Http404
    return render(request, "enrollment/agreement_print.html",
                  {"application": application, "signature": signature})


@login_required
def resubmit(request, pk: int):
    application = selectors.application_for_guardian(request.user, pk)
    term = application.term
    plan = selectors.plan_current(term)
    initial = {"agreement_version": plan.version if plan else None,
               "slots": list(application.slots.all()),
               "priority_claims": application.priority_claims, "note": application.note,
               "start_date": application.start_date}
    form = ApplicationForm(request.POST or None, request.FILES or None, term=term,
                           initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_resubmit(
                application=application, applicant=request.user,
                guardian_name=_guardian_name(request.user), **_choice(form),
                signature=_signature(request, form), evidence=_evidence(form))
        except DomainError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("已重新提交。"))
            return redirect("enrollment:application", application.pk)
    return render(request, "enrollment/apply.html", {
        "form": form, "plan": plan, "student": application.student, "term": term,
        "application": application})


@login_required
@require_POST
def cancel(request, pk: int):
    application = selectors.application_for_guardian(request.user, pk)
    try:
        services.application_cancel(application=application, user=request.user)
        messages.success(request, _("申请已撤回。"))
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect("enrollment:overview")


def _act_on(request, pk: int, queue, form_class, act, done: str, invalid: str, back: str):
    """A reviewer's or a principal's decision on one application, from its page."""
    application = get_object_or_404(queue, pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, invalid)
        return redirect("enrollment:application", pk)
    try:
        act(application, form.cleaned_data)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("enrollment:application", pk)
    messages.success(request, done)
    return redirect(back)


@login_required
@require_POST
def review(request, pk: int):
    def act(application, data):
        services.application_review(
            application=application, reviewer=request.user, decision=data["decision"],
            reason=data["reason"], verified_claims=data["verified_claims"])

    return _act_on(request, pk, selectors.applications_to_review(request.user), ReasonForm,
                   act, _("审核结果已保存。"), _("请检查审核结论和理由。"),
                   "enrollment:review-queue")


@login_required
@require_POST
def decide(request, pk: int):
    def act(application, data):
        services.application_decide(
            application=application, principal=request.user, decision=data["decision"],
            reason=data["reason"], start_date=data["start_date"])

    return _act_on(request, pk, selectors.applications_to_decide(request.user), DecideForm,
                   act, _("审定结果已保存。"), _("请检查审定结论和理由。"),
                   "enrollment:decide-queue")


def _queue_page(request, queue, template: str, bulk, extra: dict):
    status = choice_param(request.GET, "status", Application.Status)
    term_id = int_param(request.GET, "term")
    shown = queue.filter(term_id=term_id) if term_id is not None else queue
    if status:
        shown = shown.filter(status=status)
    form = BulkForm(request.POST or None, queue=queue)
    if request.method == "POST" and form.is_valid():
        ids = set(form.cleaned_data["ids"])
        chosen = [a for a in queue.filter(pk__in=ids)]
        try:
            n = bulk(chosen, form.cleaned_data)
            messages.success(request, _("已处理 %(n)s 份申请。") % {"n": n})
            return redirect(request.get_full_path())
        except DomainError as error:
            messages.error(request, str(error.message))
    return render(request, template, {"applications": shown[:500], "form": form,
                                      "status": status, **extra})


@login_required
def review_queue(request):
    if not has_role(request.user, Role.HOMEROOM_TEACHER):
        raise Http404
    queue = selectors.applications_to_review(request.user).filter(
        status=Application.Status.SUBMITTED).order_by("student__name")

    def bulk(chosen, _data):
        return services.application_review_bulk(applications=chosen, reviewer=request.user)

    history = selectors.applications_to_review(request.user).exclude(
        status=Application.Status.SUBMITTED).order_by("-submitted_at")[:50]
    return _queue_page(request, queue, "enrollment/review_queue.html", bulk,
                       {"history": history})


@login_required
def decide_queue(request):
    if not has_role(request.user, Role.PRINCIPAL, Role.OFFICE):
        raise Http404
    queue = selectors.applications_to_decide(request.user).filter(
        status=Application.Status.CLASS_APPROVED)

    def bulk(chosen, data):
        return len(services.application_decide_bulk(
            applications=chosen, principal=request.user, start_date=data["start_date"]))

    terms = list(selectors.terms_managed_by(request.user).order_by("-start"))
    figures = [(t, selectors.application_counts(t), selectors.plan_current(t),
                _survey_totals(t)) for t in terms[:3]]
    withdrawals = selectors.withdrawals_to_decide(request.user).filter(status="requested")
    return _queue_page(request, queue, "enrollment/decide_queue.html", bulk,
                       {"figures": figures, "withdrawals": withdrawals})


def _survey_totals(term: Term) -> list[dict]:
    """The needs survey (调查摸底): how many children need each slot kind, per grade (the
    kind by its label, never its code)."""
    labels = dict(ServiceSlot.Kind.choices)
    rows = list(SurveyResponse.objects.filter(term=term)
                .values("student__grade__number", "slots__kind")
                .annotate(n=Count("student", distinct=True))
                .order_by("student__grade__number", "slots__kind"))
    for row in rows:
        row["kind_label"] = labels.get(row["slots__kind"], "")
    return rows


@login_required
def plan_edit(request, term_id: int):
    term = get_object_or_404(selectors.terms_managed_by(request.user), pk=term_id)
    draft = selectors.plan_draft_for(request.user, term)
    source = draft or selectors.plan_current(term)
    form = PlanForm(request.POST or None, instance=None, initial=_plan_initial(source, term))
    if request.method == "POST" and form.is_valid():
        try:
            if "publish" in request.POST:
                plan = services.plan_save_and_publish(term=term, user=request.user,
                                                      **form.cleaned_data)
                messages.success(request, _("已公示第%(v)s版方案。") % {"v": plan.version})
                return redirect("enrollment:plan", term.pk)
            services.plan_save_draft(term=term, user=request.user, **form.cleaned_data)
            messages.success(request, _("草稿已保存。"))
            return redirect("enrollment:plan-edit", term.pk)
        except DomainError as error:
            form_add_error(form, error)
    return render(request, "enrollment/plan_edit.html",
                  {"form": form, "term": term, "draft": draft,
                   "published": selectors.plan_current(term)})


def _plan_initial(plan, term: Term) -> dict:
    if plan is None:
        return {"complaint_phone": term.school.complaint_phone,
                "complaint_email": term.school.complaint_email}
    return {name: getattr(plan, name) for name in PlanForm.Meta.fields}


@login_required
def leave(request, pk: int):
    enrolment = selectors.enrolment_for_guardian(request.user, pk)
    form = LeaveForm(request.POST or None, enrolment=enrolment)
    if request.method == "POST" and form.is_valid():
        try:
            leave = services.leave_report(enrolment=enrolment, user=request.user,
                                          **form.cleaned_data)
        except DomainError as error:
            form_add_error(form, error)
        else:
            if leave.late:
                messages.warning(request, _(
                    "已过当天请假截止时间（%(cutoff)s），请假已登记，并已立即通知带班老师。")
                    % {"cutoff": time_label(enrolment.term.school.leave_cutoff)})
            else:
                messages.success(request, _("请假已登记。"))
            return redirect("enrollment:leaves")
    return render(request, "enrollment/leave.html", {"form": form, "enrolment": enrolment})


@login_required
def leaves(request):
    """The guardian's list of their children's leave: what is coming, cancellable before the
    day, and the last month's."""
    today = timezone.localdate()
    rows = selectors.leaves_of_children(request.user, since=today - datetime.timedelta(days=30))
    return render(request, "enrollment/leaves.html", {"leaves": rows, "today": today})


@login_required
@require_POST
def leave_cancel(request, pk: int):
    leave = get_object_or_404(selectors.leaves_of_children(
        request.user, since=timezone.localdate() - datetime.timedelta(days=30)), pk=pk)
    try:
        services.leave_cancel(leave=leave, user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已撤销请假。"))
    return redirect("enrollment:leaves")


@login_required
def withdraw(request, pk: int):
    enrolment = selectors.enrolment_for_guardian(request.user, pk)
    earliest = services.withdrawal_earliest(enrolment)
    form = WithdrawalForm(request.POST or None, initial={"effective_date": earliest})
    if request.method == "POST" and form.is_valid():
        try:
            services.withdrawal_request(enrolment=enrolment, user=request.user,
                                        **form.cleaned_data)
        except DomainError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("退出申请已提交，等待学校审批。"))
            return redirect("enrollment:overview")
    return render(request, "enrollment/withdraw.html",
                  {"form": form, "enrolment": enrolment, "earliest": earliest})


@login_required
@require_POST
def withdrawal_decide(request, pk: int):
    withdrawal = get_object_or_404(selectors.withdrawals_to_decide(request.user), pk=pk)
    try:
        services.withdrawal_decide(withdrawal=withdrawal, principal=request.user,
                                   approve=request.POST.get("decision") == "approve",
                                   reason=request.POST.get("reason", ""))
        messages.success(request, _("退出申请已处理。"))
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect("enrollment:decide-queue")


@login_required
def survey(request, term_id: int, student_id: int):
    student = get_object_or_404(children_of(request.user), pk=student_id)
    term = get_object_or_404(terms_visible_to(request.user), pk=term_id, school=student.school)
    existing = SurveyResponse.objects.filter(term=term, student=student).first()
    form = SurveyForm(request.POST or None, term=term,
                      initial={"slots": list(existing.slots.all()) if existing else []})
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_submit(term=term, student=student, guardian=request.user,
                                   slots=list(form.cleaned_data["slots"]))
        except DomainError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("感谢填写需求调查。"))
            return redirect("enrollment:overview")
    return render(request, "enrollment/survey.html",
                  {"form": form, "term": term, "student": student})
