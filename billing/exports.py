"""Finance's reports as tables (XLSX and CSV through schools.tables): the receipt register with
its voids, the journal, the trial balance, spending by category, refunds, a month's payroll.
Children appear by name and class only (no phone, no ID number); amounts are numbers in yuan."""

import datetime
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.models import School, Term
from schools.tables import COUNT, MONEY, Table

from . import ledger
from .models import SPENDING, Account, JournalLine, Payment, Payroll, Refund


def _money(headers: list[str]) -> dict[str, str]:
    return dict.fromkeys(headers, MONEY)


def _when(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def register(school: School, term: Term) -> Table:
    amount = _("金额（元）")
    table = Table(_("收据登记簿"), [_("收据号"), _("类型"), _("冲销的收据"), _("学生"), _("班级"),
                                 _("支付方式"), _("交易单号"), amount, _("收款时间"), _("经办人"),
                                 _("财政票据号码"), _("原因")], formats=_money([_("金额（元）")]))
    for p in (Payment.objects.filter(school=school, term=term)
              .select_related("student__homeroom", "voids", "received_by")
              .order_by("receipt_year", "receipt_number")):
        table.rows.append([
            p.receipt_no, p.get_kind_display(), p.voids.receipt_no if p.voids else "",
            p.student.name, p.student.homeroom.name if p.student.homeroom else "",
            p.get_method_display(), p.reference, p.signed_amount, _when(p.received_at),
            p.received_by.display_name or p.received_by.username,
            f"{p.fiscal_code} {p.fiscal_number}".strip(), p.reason])
    return table


def journal(school: School, start: datetime.date, end: datetime.date) -> Table:
    names = dict(Account.choices)
    headers = [_("凭证号"), _("日期"), _("类型"), _("摘要"), _("科目代码"), _("科目"),
               _("借方"), _("贷方")]
    table = Table(_("记账凭证"), headers, formats=_money([_("借方"), _("贷方")]))
    for e in ledger.journal(school.pk, start, end):
        for line in e.lines.all():
            table.rows.append([e.label, e.date.isoformat(), e.get_kind_display(), e.memo,
                               line.account, str(names[line.account]), line.debit, line.credit])
    return table


def trial_balance(school: School, day: datetime.date) -> Table:
    headers = [_("科目代码"), _("科目"), _("借方合计"), _("贷方合计"), _("余额")]
    rows = ledger.trial_balance(school.pk, day)
    table = Table(_("试算平衡表"), headers,
                  formats=_money([_("借方合计"), _("贷方合计"), _("余额")]))
    table.rows = [[r.account, r.name, r.debit, r.credit, r.balance] for r in rows]
    table.rows.append(["", _("合计"), sum(r.debit for r in rows), sum(r.credit for r in rows),
                       ""])
    return table


def spending(school: School, start: datetime.date, end: datetime.date) -> Table:
    """R11's five spending categories, per month: what was spent (debits less credits)."""
    names = dict(Account.choices)
    headers = [_("月份")] + [str(names[a]) for a in SPENDING] + [_("合计")]
    table = Table(_("支出分类"), headers, formats=_money(headers[1:]))
    months: dict[datetime.date, dict[str, Decimal]] = {}
    for row in (JournalLine.objects.filter(entry__school=school, account__in=SPENDING,
                                           entry__date__range=(start, end))
                .annotate(month=TruncMonth("entry__date")).values("month", "account")
                .annotate(d=Sum("debit"), c=Sum("credit"))):
        months.setdefault(row["month"], {})[row["account"]] = row["d"] - row["c"]
    for month in sorted(months):
        values = [months[month].get(a, Decimal("0.00")) for a in SPENDING]
        table.rows.append([f"{month:%Y-%m}", *values, sum(values)])
    return table


def refunds(school: School, term: Term | None) -> Table:
    amount = _("金额（元）")
    table = Table(_("退费"), [_("退款单号"), _("学生"), _("原收据"), _("支付方式"), amount,
                            _("状态"), _("退款交易号"), _("失败原因"), _("生成时间")],
                  formats=_money([amount]))
    qs = Refund.objects.filter(school=school).select_related("student", "payment")
    if term is not None:
        qs = qs.filter(term=term)
    for r in qs.order_by("pk"):
        table.rows.append([r.out_refund_no, r.student.name, r.payment.receipt_no,
                           r.payment.get_method_display(), r.amount, r.get_status_display(),
                           r.reference, r.failure, _when(r.created_at)])
    return table


def payroll(p: Payroll) -> Table:
    headers = [_("服务月份"), _("教师"), _("所属机构"), _("服务次数"), _("其中代课"), _("课时"),
               _("课时费（元/课时）"), _("金额（元）"), _("说明")]
    table = Table(_("劳务费 %(m)s") % {"m": f"{p.month:%Y-%m}"}, headers,
                  formats={**_money([_("课时费（元/课时）"), _("金额（元）")]),
                           _("服务次数"): COUNT, _("其中代课"): COUNT, _("课时"): "0.0"})
    for line in p.lines.select_related("staff").order_by("for_month", "provider_name",
                                                         "staff__name"):
        table.rows.append([f"{line.for_month:%Y-%m}", line.staff.name, line.provider_name,
                           line.sessions, line.substitute_sessions, line.class_hours, line.rate,
                           line.amount, line.note])
    return table
