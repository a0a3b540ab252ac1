"""Billing pages: a family's statement on the phone (printable); the finance officer's receipt
register with the payment form, the printable receipt, refunds to pay and the trial balance;
the principal's waivers and term-end settlement. Thin: each form posts to the same service as
the API; the payment form carries an Idempotency-Key drawn with the page, so sending it twice
records one receipt."""

import datetime
import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from schools.errors import DomainError
from schools.models import Role, School, Term
from schools.params import InvalidParameter, choice_param, date_param, int_param, text_param
from schools.selectors import children_of, has_role, school_ids_for
from schools.tables import (
    CSV_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    download,
    table_csv,
    tables_xlsx,
)

from . import exports, ledger, payroll, selectors, services, settlement
from .models import SPENDING, Payment, Payroll, Refund, Subsidy, Waiver
from .tasks import settle_progress, settle_queued, settle_term


def _text(post, name: str, max_length: int = 200) -> str:
    return text_param(post, name, max_length=max_length) or ""


def _amount(post, name: str) -> Decimal:
    try:
        value = Decimal((post.get(name) or "").strip())
    except InvalidOperation:
        raise DomainError(_("请填写金额（元），如 120.00。"), field=name) from None
    if not value.is_finite():
        raise DomainError(_("请填写金额（元），如 120.00。"), field=name)
    return value


def _school_of(user, roles) -> School:
    ids = school_ids_for(user, roles)
    if not ids:
        raise Http404
    return get_object_or_404(School, pk=min(ids))


def _term_of(school: School, params) -> Term:
    terms = Term.objects.filter(school=school).order_by("-start")
    term_id = int_param(params, "term")
    if term_id is not None:
        return get_object_or_404(terms, pk=term_id)
    term = terms.filter(start__lte=timezone.localdate()).first() or terms.first()
    if term is None:
        raise Http404
    return term


@login_required
@require_GET
def home(request):
    """The top bar's 收费 entry: a guardian's children; the school's money pages for staff."""
    school_roles = school_ids_for(request.user, selectors.FEE_ROLES)
    children = list(children_of(request.user).select_related("school"))
    if not children and not school_roles:
        raise Http404
    return render(request, "billing/home.html", {
        "this_month": f"{timezone.localdate():%Y-%m}", "exports": [
            ("register", _("收据登记簿")), ("journal", _("记账凭证")),
            ("trial-balance", _("试算平衡表")), ("spending", _("支出分类")),
            ("refunds", _("退费"))],
        "children": children, "finance": selectors.is_finance(request.user),
        "principal": has_role(request.user, Role.PRINCIPAL), "staff": bool(school_roles)})


@login_required
@require_GET
def statement(request, pk: int):
    student = get_object_or_404(selectors.statement_students_for(request.user), pk=pk)
    terms = selectors.terms_of_student(student)
    term_id = int_param(request.GET, "term")
    term = (get_object_or_404(terms, pk=term_id) if term_id is not None
            else terms.filter(start__lte=timezone.localdate()).first() or terms.first())
    if term is None:
        raise Http404
    s = selectors.statement(student, term)
    return render(request, "billing/statement.html", {
        "s": s, "service": selectors.service_delivered(student, term, timezone.localdate()),
        "terms": terms, "owes": s.balance > 0, "owed": -s.balance if s.balance < 0 else 0})


def _record_payment(request, school: School) -> Payment | None:
    post = request.POST
    student = get_object_or_404(selectors.students_billed_by(request.user).filter(school=school),
                                pk=int_param(post, "student") or 0)
    term = get_object_or_404(selectors.terms_of_student(student), pk=int_param(post, "term") or 0)
    method = choice_param(post, "method", Payment.Method.values) or ""
    reply = services.payment_record(user=request.user, key=_text(post, "key", 100),
                                    student=student, term=term,
                                    amount=_amount(post, "amount"), method=method,
                                    reference=_text(post, "reference", 64))
    return Payment.objects.get(pk=reply.body["id"])


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    """Finance: record a payment (the receipt opens, ready to print) and the term's receipt
    register, voids included."""
    if not selectors.is_finance(request.user):
        raise Http404
    school = _school_of(request.user, {Role.FINANCE})
    if request.method == "POST":
        try:
            if request.POST.get("action") == "void":
                payment = get_object_or_404(selectors.payments_recorded_by(request.user),
                                            pk=int_param(request.POST, "payment") or 0)
                void = services.payment_void(payment=payment, user=request.user,
                                             reason=_text(request.POST, "reason"))
                messages.success(request, _("已冲销收据 %(no)s，冲销收据号 %(void)s。")
                                 % {"no": payment.receipt_no, "void": void.receipt_no})
                return redirect("billing:register")
            if request.POST.get("action") == "transfer":
                number = _text(request.POST, "receipt_no", 20).strip()
                payment = (selectors.payments_recorded_by(request.user).filter(
                    school=school, receipt_year=int(number[:4]),
                    receipt_number=int(number[4:])).first()
                    if number.isascii() and number.isdigit() and len(number) > 4 else None)
                if payment is None:
                    raise DomainError(_("没有这个收据号。"), field="receipt_no")
                to_student = get_object_or_404(
                    selectors.students_billed_by(request.user).filter(school=school),
                    pk=int_param(request.POST, "student") or 0)
                services.payment_transfer(payment=payment, user=request.user,
                                          to_student=to_student,
                                          reason=_text(request.POST, "reason"))
                messages.success(request, _("已将收据 %(no)s 转记到 %(name)s。")
                                 % {"no": payment.receipt_no, "name": to_student.name})
                return redirect("billing:register")
            payment = _record_payment(request, school)
            return redirect("billing:receipt", pk=payment.pk)
        except DomainError as exc:
            messages.error(request, str(exc.message))
    term = _term_of(school, request.GET)
    payments = list(Payment.objects.filter(school=school, term=term)
                    .select_related("student", "received_by", "voids")
                    .order_by("-receipt_year", "-receipt_number")[:500])
    totals = Payment.objects.filter(school=school, term=term).values("kind").annotate(
        total=Sum("amount"))
    by_kind = {row["kind"]: row["total"] for row in totals}
    students = (selectors.students_billed_by(request.user).filter(school=school)
                .select_related("homeroom").order_by("homeroom__name", "name"))
    return render(request, "billing/register.html", {
        "school": school, "term": term, "payments": payments,
        "terms": Term.objects.filter(school=school).order_by("-start"),
        "students": students, "methods": Payment.Method.choices,
        "key": uuid.uuid4(), "selected": int_param(request.GET, "student"),
        "received": by_kind.get(Payment.Kind.PAYMENT, 0) - by_kind.get(Payment.Kind.VOID, 0)})


@login_required
@require_GET
def receipt(request, pk: int):
    """A receipt, ready to print: finance and the principal of the school; the child's
    guardians."""
    students = selectors.statement_students_for(request.user)
    payment = get_object_or_404(Payment.objects.select_related(
        "student", "school", "term", "received_by", "voids").filter(
        student__in=students), pk=pk)
    return render(request, "billing/receipt.html", {"p": payment})


@login_required
@require_GET
def trial_balance(request):
    school = _school_of(request.user, selectors.LEDGER_ROLES)
    day = date_param(request.GET, "date") or timezone.localdate()
    rows = ledger.trial_balance(school.pk, day)
    return render(request, "billing/trial_balance.html", {
        "school": school, "date": day, "rows": rows,
        "debit": sum(r.debit for r in rows), "credit": sum(r.credit for r in rows)})


@login_required
@require_http_methods(["GET", "POST"])
def refunds(request):
    """Finance: the refunds to pay, and marking each sent, done (with the platform's or the
    bank's reference) or failed."""
    if not selectors.is_finance(request.user):
        raise Http404
    mine = selectors.refunds_handled_by(request.user)
    if request.method == "POST":
        refund = get_object_or_404(mine, pk=int_param(request.POST, "refund") or 0)
        action = choice_param(request.POST, "action", ["sent", "done", "failed"])
        try:
            if action == "sent":
                settlement.refund_sent(refund=refund, user=request.user)
            elif action == "done":
                settlement.refund_done(refund=refund, user=request.user,
                                       reference=_text(request.POST, "reference", 64))
            elif action == "failed":
                settlement.refund_failed(refund=refund, user=request.user,
                                         reason=_text(request.POST, "reason"))
            messages.success(request, _("退费单 %(no)s 已更新。") % {"no": refund.out_refund_no})
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("billing:refunds")
    wanted = choice_param(request.GET, "status", Refund.Status.values)
    rows = mine.order_by("status", "pk")
    if wanted:
        rows = rows.filter(status=wanted)
    return render(request, "billing/refunds.html", {
        "refunds": list(rows.select_related("term")[:1000]), "statuses": Refund.Status.choices,
        "wanted": wanted})


@login_required
@require_http_methods(["GET", "POST"])
def term(request):
    """The principal's money for a term: waivers (grant, revoke) and the term-end settlement."""
    if not has_role(request.user, Role.PRINCIPAL):
        raise Http404
    school = _school_of(request.user, selectors.DECIDER_ROLES)
    current = _term_of(school, request.GET if request.method == "GET" else request.POST)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "settle":
                # A city's term is tens of thousands of enrolments: settled by a worker, its
                # progress shown here (the demo runs it at once).
                settle_queued(current.pk)
                settle_term.delay(current.pk, request.user.pk)
            elif action == "revoke":
                waiver = get_object_or_404(selectors.waivers_decided_by(request.user),
                                           pk=int_param(request.POST, "waiver") or 0)
                services.waiver_revoke(waiver=waiver, user=request.user,
                                       reason=_text(request.POST, "reason"))
                messages.success(request, _("已撤销减免。"))
            else:
                student = get_object_or_404(selectors.students_waived_by(request.user),
                                            pk=int_param(request.POST, "student") or 0)
                kind = choice_param(request.POST, "kind", Waiver.Kind.values) or ""
                services.waiver_grant(
                    user=request.user, student=student, term=current, kind=kind,
                    value=None if kind == Waiver.Kind.FULL else _amount(request.POST, "value"),
                    reason=_text(request.POST, "reason"),
                    borne_by=choice_param(request.POST, "borne_by", Waiver.BorneBy.values) or "",
                    evidence=_text(request.POST, "evidence"),
                    valid_from=date_param(request.POST, "valid_from"))
                messages.success(request, _("已批准减免。"))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect(f"{request.path}?term={current.pk}")
    waivers = (selectors.waivers_decided_by(request.user).filter(term=current)
               .select_related("revocation", "student").annotate(posted=Sum("postings__amount"))
               .order_by("student__name"))
    last = settlement.last_service_day(current)
    runs = list(settlement.Settlement.objects.filter(term=current).order_by("-run")[:5])
    return render(request, "billing/term.html", {
        "job": settle_progress(current.pk),
        "school": school, "term": current, "waivers": waivers,
        "terms": Term.objects.filter(school=school).order_by("-start"),
        "students": selectors.students_waived_by(request.user).filter(school=school)
        .order_by("name"),
        "kinds": Waiver.Kind.choices, "bearers": Waiver.BorneBy.choices,
        "last_day": last, "can_settle": last is not None and timezone.localdate() > last,
        "runs": runs})


@login_required
@require_GET
def settle_job(request, pk: int):
    """The settlement job's progress, for the term page to poll."""
    term = get_object_or_404(selectors.terms_settled_by(request.user), pk=pk)
    return render(request, "billing/_settle_job.html", {"job": settle_progress(term.pk),
                                                        "term": term})


EXPORTS = ("register", "journal", "trial-balance", "spending", "refunds", "payroll")
CONTENT_TYPES = {"xlsx": XLSX_CONTENT_TYPE, "csv": CSV_CONTENT_TYPE}


def _month_param(params) -> datetime.date:
    raw = text_param(params, "month", max_length=7) or ""
    try:
        month = datetime.date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise InvalidParameter("month", _("参数 month 须为 YYYY-MM。")) from None
    if not 2000 <= month.year <= 2999:
        raise InvalidParameter("month", _("参数 month 须为 YYYY-MM。"))
    return month


@login_required
@require_GET
def export(request, report: str, fmt: str):
    """A finance report as XLSX or CSV, for the school's finance officer and principal."""
    if report not in EXPORTS or fmt not in CONTENT_TYPES:
        raise Http404
    school = _school_of(request.user, selectors.LEDGER_ROLES)
    today = timezone.localdate()
    if report in ("register", "refunds"):
        term = _term_of(school, request.GET)
        table = (exports.register(school, term) if report == "register"
                 else exports.refunds(school, term))
        label = term.name
    elif report == "payroll":
        month = _month_param(request.GET)
        table = exports.payroll(get_object_or_404(Payroll, school=school, month=month))
        label = f"{month:%Y-%m}"
    elif report == "trial-balance":
        day = date_param(request.GET, "date") or today
        table, label = exports.trial_balance(school, day), day.isoformat()
    else:
        end = date_param(request.GET, "to") or today
        start = date_param(request.GET, "from") or end.replace(month=1, day=1)
        if start > end or (end - start).days > 400:
            raise InvalidParameter("from", _("开始日期须早于结束日期，且一次最多 400 天。"))
        table = (exports.journal if report == "journal" else exports.spending)(school, start,
                                                                              end)
        label = f"{start.isoformat()}_{end.isoformat()}"
    content = tables_xlsx([table]) if fmt == "xlsx" else table_csv(table)
    return download(content, f"{school.name}-{table.title}-{label}.{fmt}", CONTENT_TYPES[fmt])


@login_required
@require_http_methods(["GET", "POST"])
def payroll_month(request, month: str):
    """Teacher pay for a month (R12): the principal drafts it from the sessions served and
    publishes it to the staff; finance records its payment. Both read it and export it."""
    school = _school_of(request.user, payroll.READERS)
    try:
        first = _month_param({"month": month})
    except InvalidParameter:
        raise Http404 from None
    principal = has_role(request.user, Role.PRINCIPAL, school=school)
    finance = has_role(request.user, Role.FINANCE, school=school)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "draft" and principal:
                payroll.payroll_draft(school=school, month=first, user=request.user)
                messages.success(request, _("已按服务记录编制。"))
            elif action == "publish" and principal:
                payroll.payroll_publish(school=school, month=first, user=request.user)
                messages.success(request, _("已公布，教师已收到各自的劳务费明细。"))
            elif action == "rate" and principal:
                rate = payroll.pay_rate_set(
                    school=school, rate=_amount(request.POST, "rate"), user=request.user,
                    effective_from=_required_date(request.POST, "effective_from"))
                messages.success(request, _("新的课时费标准 %(rate)s 元/课时自 %(d)s 起执行。")
                                 % {"rate": f"{rate.rate:.2f}", "d": rate.effective_from})
            elif action == "paid" and finance:
                payroll.payroll_pay(payroll=get_object_or_404(Payroll, school=school,
                                                              month=first),
                                    user=request.user,
                                    reference=_text(request.POST, "reference", 64))
                messages.success(request, _("已登记支付。"))
            else:
                raise Http404
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("billing:payroll", month=month)
    current = Payroll.objects.filter(school=school, month=first).first()
    lines = list(payroll.payroll_lines(current)) if current else []
    return render(request, "billing/payroll.html", {
        "school": school, "month": first, "payroll": current, "lines": lines,
        "principal": principal, "finance": finance,
        "rate": payroll.rate_in_force(school, timezone.localdate()),
        "rates": list(payroll.pay_rates_of(school).reverse()[:6]), "today": timezone.localdate(),
        "previous": f"{payroll.add_months(first, -1):%Y-%m}",
        "next": f"{payroll.add_months(first, 1):%Y-%m}",
        "ended": payroll.add_months(first, 1) <= timezone.localdate()})


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    """The dedicated account's money in from the government and out to spending (R11 专款专
    用): finance records both; the principal reads them."""
    school = _school_of(request.user, selectors.LEDGER_ROLES)
    finance = has_role(request.user, Role.FINANCE, school=school)
    if request.method == "POST":
        if not finance:
            raise Http404
        post = request.POST
        try:
            if post.get("action") == "subsidy":
                services.subsidy_record(
                    user=request.user, key=_text(post, "key", 100), school_id=school.pk,
                    kind=choice_param(post, "kind", Subsidy.Kind.values) or "",
                    amount=_amount(post, "amount"), received_on=_required_date(post,
                                                                               "received_on"),
                    source_document=_text(post, "source_document"), basis=_text(post, "basis"),
                    term=_term_of(school, post))
                messages.success(request, _("已登记财政拨款。"))
            else:
                services.expense_record(
                    user=request.user, key=_text(post, "key", 100), school_id=school.pk,
                    category=choice_param(post, "category", [a.value for a in SPENDING]) or "",
                    amount=_amount(post, "amount"), payee=_text(post, "payee", 100),
                    description=_text(post, "description"),
                    document=_text(post, "document", 100),
                    paid_on=_required_date(post, "paid_on"))
                messages.success(request, _("已登记支出。"))
            return redirect("billing:account")
        except DomainError as exc:
            messages.error(request, str(exc.message))
    return render(request, "billing/account.html", {
        "school": school, "finance": finance, "key": uuid.uuid4(),
        "subsidy_key": uuid.uuid4(), "bank": services.bank_balance(school.pk),
        "subsidies": list(selectors.subsidies_visible_to(request.user, school)[:200]),
        "expenses": list(selectors.expenses_of(school)[:200]),
        "kinds": Subsidy.Kind.choices, "categories": [(a.value, a.label) for a in SPENDING],
        "today": timezone.localdate()})


def _required_date(post, name: str) -> datetime.date:
    day = date_param(post, name)
    if day is None:
        raise DomainError(_("请填写日期。"), field=name)
    return day
