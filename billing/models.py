"""Billing (R11, R12): the dedicated account's double-entry ledger, term charges, payments and
their receipts.

Money is `Decimal` to the fen. Nothing here is edited in place: the database refuses an
unbalanced journal entry and any change or deletion of a posted entry, line, charge or receipt
(migration 0002); a mistake is corrected by a reversing entry or a voiding receipt."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from schools.models import School, Student, Term

MONEY = {"max_digits": 12, "decimal_places": 2}


class Account(models.TextChoices):
    """The chart of the dedicated account (专账管理、专款专用、收支两条线) every school's ledger
    uses, with R11's five spending categories: the chart is shared, the entries belong to one
    school."""

    BANK = "1002", _("银行存款（课后服务专户）")
    CLEARING = "1012", _("待清算款项（微信、支付宝）")
    FAMILIES = "1221", _("应收家长服务费")
    BUREAU = "1222", _("应收财政局款项")
    PREPAID = "2203", _("预收服务费")
    PAY_PAYABLE = "2211", _("应付教师劳务费")
    REFUNDS_PAYABLE = "2241", _("应付退费")
    FEE_INCOME = "4001", _("服务费收入")
    SUBSIDY_INCOME = "4002", _("财政补助收入")
    STAFF_PAY = "5001", _("人员劳务报酬")
    EXTERNAL_TEACHERS = "5002", _("校外教师及团队费用")
    CONSUMABLES = "5003", _("耗材费用")
    COURSES = "5004", _("购买课程费用")
    OTHER_COSTS = "5005", _("其他服务费用")


# Assets and spending grow on the debit side; liabilities and income on the credit side.
DEBIT_NORMAL = {"1", "5"}


class NumberSeries(models.Model):
    """The last number given in a school's series for a year (journal entries, receipts). The
    row is taken with INSERT ... ON CONFLICT DO UPDATE in the transaction that uses the
    number: it stays locked until that commits, and a rollback gives the number back, so the
    series has no gaps."""

    class Series(models.TextChoices):
        JOURNAL = "journal", _("记账凭证")
        RECEIPT = "receipt", _("收据")
        REFUND = "refund", _("退费单")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    series = models.CharField(max_length=10, choices=Series.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "series", "year"],
                                               name="number_series_unique")]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last}"


class JournalEntry(models.Model):
    """A posted entry of the school's dedicated ledger; its lines' debits equal its credits."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("应收服务费")
        PAYMENT = "payment", _("收费")
        VOID = "void", _("冲销收据")
        WAIVER = "waiver", _("减免")
        SUBSIDY = "subsidy", _("财政补助")
        INCOME = "income", _("确认服务收入")
        REFUND = "refund", _("应退费")
        REFUND_PAID = "refund_paid", _("退费支付")
        REFUND_FAILED = "refund_failed", _("退费失败转回")
        PAYROLL = "payroll", _("计提教师劳务费")
        PAYROLL_PAID = "payroll_paid", _("支付教师劳务费")
        TRANSFER = "transfer", _("收费转记")
        EXPENSE = "expense", _("支出")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("学校"))
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveIntegerField(_("凭证号"))
    date = models.DateField(_("记账日期"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    # What the entry records, once: e.g. "payment:12", "charge:34:2". Posting the same event
    # twice is refused by this key.
    source = models.CharField(_("来源"), max_length=100, unique=True)
    memo = models.CharField(_("摘要"), max_length=200)
    term = models.ForeignKey(Term, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by", verbose_name=_("冲销"))
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    posted_at = models.DateTimeField(_("记账时间"))

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")
        ordering = ["school", "year", "number"]
        constraints = [models.UniqueConstraint(fields=["school", "year", "number"],
                                               name="journal_entry_number_unique")]

    def __str__(self) -> str:
        return f"{self.year}-{self.number:06d} {self.memo}"

    @property
    def label(self) -> str:
        return f"{self.year}-{self.number:06d}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.CharField(_("科目"), max_length=4, choices=Account.choices)
    debit = models.DecimalField(_("借方"), **MONEY, default=0)
    credit = models.DecimalField(_("贷方"), **MONEY, default=0)
    # The family's sub-ledger: set on lines of the family receivable.
    student = models.ForeignKey(Student, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")

    class Meta:
        ordering = ["entry", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0, credit=0) | Q(debit=0, credit__gt=0)),
                name="journal_line_one_side_positive"),
            models.CheckConstraint(condition=Q(account__in=Account.values),
                                   name="journal_line_account_in_chart"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.debit or -self.credit}"


class Charge(models.Model):
    """What an enrolment is charged for the term, posted as differences: the first posting is
    the prepaid term charge; a later one (a new fee version, a settlement) posts what changed.
    The enrolment's charge is the sum of its rows."""

    class Kind(models.TextChoices):
        PREPAY = "prepay", _("学期预收")
        ADJUST = "adjust", _("标准调整")
        SETTLE = "settle", _("期末结算")

    enrolment = models.ForeignKey("enrollment.Enrolment", on_delete=models.PROTECT,
                                  related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    # The computation behind the amount: days, class-hours and rates, for the statement.
    basis = models.JSONField(default=dict)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="charge")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("服务费")
        verbose_name_plural = _("服务费")
        ordering = ["term", "student", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0),
                                              name="charge_not_zero")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


# The constraint that refuses a payer's reference recorded twice (its name is in the error).
REFERENCE_UNIQUE = "payment_reference_unique_per_method"


def receipt_no(year: int, number: int) -> str:
    """A receipt's number as printed: the year, then the school's series number."""
    return f"{year}{number:06d}"


class Payment(models.Model):
    """A receipt: a payment received, or the voiding of one (a reversing receipt that refers
    to it, at most one). Numbered from the school's gap-free receipt series of the year."""

    class Method(models.TextChoices):
        WECHAT = "wechat", _("微信支付")
        ALIPAY = "alipay", _("支付宝")
        BANK = "bank", _("银行转账")
        CASH = "cash", _("现金")

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("收款")
        VOID = "void", _("冲销")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("学期"))
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("学生"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices,
                            default=Kind.PAYMENT)
    amount = models.DecimalField(_("金额"), **MONEY)
    method = models.CharField(_("支付方式"), max_length=10, choices=Method.choices)
    # The payer's transaction reference (WeChat/Alipay order, bank slip); none for cash.
    reference = models.CharField(_("交易单号"), max_length=64, blank=True)
    receipt_year = models.PositiveSmallIntegerField()
    receipt_number = models.PositiveIntegerField()
    voids = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="voided_by", verbose_name=_("冲销的收据"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    # The fiscal e-receipt (财政电子票据), filled in once when the fiscal platform returns it.
    fiscal_code = models.CharField(_("财政票据代码"), max_length=30, blank=True)
    fiscal_number = models.CharField(_("财政票据号码"), max_length=30, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="payment")
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("经办人"))
    received_at = models.DateTimeField(_("收款时间"))

    class Meta:
        verbose_name = _("收据")
        verbose_name_plural = _("收据")
        ordering = ["school", "receipt_year", "receipt_number"]
        constraints = [
            models.UniqueConstraint(fields=["school", "receipt_year", "receipt_number"],
                                    name="payment_receipt_number_unique"),
            models.UniqueConstraint(fields=["method", "reference"],
                                    condition=Q(kind="payment") & ~Q(reference=""),
                                    name=REFERENCE_UNIQUE),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=(Q(kind="payment", voids__isnull=True)
                           | Q(kind="void", voids__isnull=False)),
                name="payment_void_refers_to_its_receipt"),
            models.CheckConstraint(condition=Q(kind="void") | Q(method="cash")
                                   | ~Q(reference=""),
                                   name="payment_reference_unless_cash"),
        ]

    def __str__(self) -> str:
        return self.receipt_no

    @property
    def receipt_no(self) -> str:
        return receipt_no(self.receipt_year, self.receipt_number)

    @property
    def signed_amount(self):
        return -self.amount if self.kind == self.Kind.VOID else self.amount


class IdempotentRequest(models.Model):
    """A money write's `Idempotency-Key`: the same key again answers what the first answered;
    with another body it is refused (422)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"],
                                               name="idempotent_request_unique_key")]

    def __str__(self) -> str:
        return self.key


class Waiver(models.Model):
    """A fee waiver for a certified economically difficult student (R11), for a term from a
    date: all of it, a percentage, or an amount. Who bears it: the school's fund (the fee is
    forgone) or the finance bureau (a receivable from it). Never edited; revoking it adds a
    `WaiverRevocation`."""

    class Kind(models.TextChoices):
        FULL = "full", _("全免")
        PERCENT = "percent", _("按比例减免")
        AMOUNT = "amount", _("减免固定金额")

    class BorneBy(models.TextChoices):
        SCHOOL = "school", _("学校课后服务经费")
        BUREAU = "bureau", _("财政局（应收财政款）")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("学期"))
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("学生"))
    kind = models.CharField(_("减免方式"), max_length=10, choices=Kind.choices)
    # The percentage (0 < v <= 100) or the amount in yuan; 100 for a full waiver.
    value = models.DecimalField(_("比例或金额"), **MONEY)
    reason = models.CharField(_("减免理由"), max_length=200)
    # The certification it rests on (e.g. 低保证、特困供养证 number, the bureau's list).
    evidence = models.CharField(_("认定依据"), max_length=200)
    borne_by = models.CharField(_("经费承担"), max_length=10, choices=BorneBy.choices)
    valid_from = models.DateField(_("生效日期"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("批准人"))
    granted_at = models.DateTimeField(_("批准时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("减免")
        verbose_name_plural = _("减免")
        ordering = ["term", "student", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="full", value=100) | Q(kind="percent", value__gt=0,
                                                         value__lte=100)
                           | Q(kind="amount", value__gt=0)),
                name="waiver_value_fits_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class WaiverRevocation(models.Model):
    """The end of a waiver: days from `effective_from` on are charged again."""

    waiver = models.OneToOneField(Waiver, on_delete=models.PROTECT, related_name="revocation")
    effective_from = models.DateField(_("撤销生效日期"))
    reason = models.CharField(_("撤销理由"), max_length=200)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    revoked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.waiver_id} → {self.effective_from}"


class WaiverPosting(models.Model):
    """What a waiver takes off the family's charge, posted as differences like a charge: on
    grant, on revocation and at settlement (the waiver of the service actually due)."""

    waiver = models.ForeignKey(Waiver, on_delete=models.PROTECT, related_name="postings")
    amount = models.DecimalField(_("金额"), **MONEY)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="waiver")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["waiver", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0),
                                              name="waiver_posting_not_zero")]

    def __str__(self) -> str:
        return f"{self.waiver_id}: {self.amount}"


class Subsidy(models.Model):
    """Money the dedicated account receives from the government (R11): a subsidy (e.g. 120 元
    per student per year) as income, or the bureau's payment of the waivers it bears."""

    class Kind(models.TextChoices):
        SUBSIDY = "subsidy", _("财政补助")
        WAIVER_REFUND = "waivers", _("财政承担的减免款")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("学期"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    # The appropriation's document (文号) and what it says the money is for.
    source_document = models.CharField(_("拨款文件"), max_length=200)
    basis = models.CharField(_("测算依据"), max_length=200, blank=True)
    received_on = models.DateField(_("到账日期"))
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="subsidy")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("财政拨款")
        verbose_name_plural = _("财政拨款")
        ordering = ["school", "received_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0),
                                              name="subsidy_amount_positive")]

    def __str__(self) -> str:
        return f"{self.source_document} {self.amount}"


class Settlement(models.Model):
    """A run of the term-end settlement (学期末结算多还少补): who ran it, when, and what it
    posted. Runs after the first post only differences."""

    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    run = models.PositiveSmallIntegerField()
    enrolments = models.PositiveIntegerField()
    entries = models.PositiveIntegerField()
    refunded = models.DecimalField(**MONEY)
    top_ups = models.DecimalField(**MONEY)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    settled_at = models.DateTimeField()

    class Meta:
        ordering = ["term", "run"]
        constraints = [models.UniqueConstraint(fields=["term", "run"],
                                               name="settlement_run_unique")]

    def __str__(self) -> str:
        return f"{self.term_id} #{self.run}"


class Refund(models.Model):
    """A refund of (part of) one payment, as settlement finds the family owed: created → sent →
    done or failed. The refunded total of a payment never exceeds it (checked under the
    payment's row lock). A failed refund's payable goes back to the family's account, and the
    next settlement makes a new refund with a new number."""

    class Status(models.TextChoices):
        CREATED = "created", _("待退款")
        SENT = "sent", _("已提交")
        DONE = "done", _("已退款")
        FAILED = "failed", _("退款失败")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(_("金额"), **MONEY)
    # The number sent to the payment platform or bank (商户退款单号): from the school's refund
    # series, so never reused.
    out_refund_no = models.CharField(_("退款单号"), max_length=32, unique=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.CREATED)
    reference = models.CharField(_("退款交易号"), max_length=64, blank=True)
    failure = models.CharField(_("失败原因"), max_length=200, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="refund")
    closing_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="refund_closed")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("退费")
        verbose_name_plural = _("退费")
        ordering = ["term", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["created", "sent"], closing_entry__isnull=True)
                | Q(status__in=["done", "failed"], closing_entry__isnull=False),
                name="refund_closed_with_entry"),
        ]
        indexes = [models.Index(fields=["school", "status"], name="refund_school_status_idx")]

    def __str__(self) -> str:
        return self.out_refund_no


# --- Teacher pay (R12) -----------------------------------------------------------------------

class PayRate(models.Model):
    """The school's pay per class-hour (R12: 60 元 per person per class-hour, staff and external
    teachers alike), as versions: a session is paid at the latest version in force on its
    date. Never edited (migration 0007): a new rate is a new version from a later date, so a
    month already paid is never repriced."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("学校"))
    rate = models.DecimalField(_("课时费（元/课时）"), **MONEY)
    effective_from = models.DateField(_("生效日期"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("设定人"))
    set_at = models.DateTimeField(_("设定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("课时费标准")
        verbose_name_plural = _("课时费标准")
        ordering = ["school", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["school", "effective_from"],
                                    name="pay_rate_one_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="pay_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.rate} ({self.effective_from:%Y-%m-%d})"


class Payroll(models.Model):
    """A school's monthly payroll of after-school pay (R12), from the sessions actually served:
    drafted (and recomputed) by the principal, then published to the staff (R9's monthly
    publication), which posts the accrual; paid once by finance. Published, it is never
    rewritten (migration 0007): what was found later goes into a later month's payroll as
    correction lines."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已公布")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("学校"))
    month = models.DateField(_("月份"), help_text=_("该月的第一天。"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    total = models.DecimalField(_("合计"), **MONEY, default=0)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("编制人"))
    drafted_at = models.DateTimeField(_("编制时间"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("公布人"))
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    # The accrual posted at publication (none for a month with nothing to pay).
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="payroll")
    paid_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="payroll_paid")
    # The bank's batch or transfer reference of the payment.
    paid_reference = models.CharField(_("付款凭据号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("课后服务劳务费月表")
        verbose_name_plural = _("课后服务劳务费月表")
        ordering = ["school", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["school", "month"], name="payroll_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="payroll_month_first_day"),
            models.CheckConstraint(
                condition=(Q(status="draft", published_at__isnull=True, entry__isnull=True)
                           | Q(status="published", published_at__isnull=False,
                               published_by__isnull=False)),
                name="payroll_published_says_when"),
            models.CheckConstraint(
                condition=(Q(paid_entry__isnull=True, paid_reference="")
                           | Q(status="published", paid_entry__isnull=False)),
                name="payroll_paid_once_published"),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.month:%Y-%m}"

    @property
    def label(self) -> str:
        """The month as the API names it: YYYY-MM."""
        return f"{self.month:%Y-%m}"


class PayrollLine(models.Model):
    """One staff member's pay in a payroll at one rate: sessions served × the slots'
    class-hours × the rate, rounded half up to the fen once. A correction line (`for_month`
    earlier than the payroll's month) carries the difference a late-recorded session made to a
    month already published, so it may be negative."""

    payroll = models.ForeignKey(Payroll, on_delete=models.PROTECT, related_name="lines")
    staff = models.ForeignKey("schools.Staff", on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("教职工"))
    # The provider for external staff (R13), as it was when the line was computed; blank for
    # the school's own teachers.
    provider_name = models.CharField(_("所属机构"), max_length=100, blank=True)
    sessions = models.IntegerField(_("服务次数"))
    substitute_sessions = models.IntegerField(_("其中代课次数"))
    class_hours = models.DecimalField(_("课时"), max_digits=7, decimal_places=1)
    rate = models.DecimalField(_("课时费（元/课时）"), **MONEY)
    amount = models.DecimalField(_("金额"), **MONEY)
    for_month = models.DateField(_("服务月份"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("劳务费明细")
        verbose_name_plural = _("劳务费明细")
        ordering = ["payroll", "for_month", "provider_name", "staff", "rate"]
        constraints = [
            models.UniqueConstraint(fields=["payroll", "for_month", "staff", "rate"],
                                    name="payroll_line_one_per_staff_rate"),
            models.CheckConstraint(condition=Q(for_month__day=1),
                                   name="payroll_line_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.for_month:%Y-%m}: {self.amount}"


class PaymentTransfer(models.Model):
    """A payment recorded against the wrong child (a sibling, say), moved to the right one by
    a transfer entry between their family accounts; the receipt itself is never edited. At
    most one per payment."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="transfer")
    from_student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    to_student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("转入学生"))
    amount = models.DecimalField(_("金额"), **MONEY)
    reason = models.CharField(_("原因"), max_length=200)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT,
                                 related_name="transfer")
    transferred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                       related_name="+")
    transferred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("收费转记")
        verbose_name_plural = _("收费转记")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(from_student=models.F("to_student")),
                                   name="transfer_to_another_child"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.to_student_id}"


# R11's five spending categories: what the service's money may be spent on.
SPENDING = [Account.STAFF_PAY, Account.EXTERNAL_TEACHERS, Account.CONSUMABLES, Account.COURSES,
            Account.OTHER_COSTS]


class Expense(models.Model):
    """Money spent from the dedicated account (专款专用), by category: consumables, purchased
    courses, external teachers' fees, other costs (teachers' own pay goes through the payroll).
    Paid only from the dedicated bank account, never more than it holds; never edited."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("支出类别"), max_length=4,
                                choices=[(a.value, a.label) for a in SPENDING])
    amount = models.DecimalField(_("金额"), **MONEY)
    payee = models.CharField(_("收款单位"), max_length=100)
    description = models.CharField(_("用途"), max_length=200)
    # The invoice or contract it rests on (发票号、合同号).
    document = models.CharField(_("票据或合同号"), max_length=100)
    paid_on = models.DateField(_("支付日期"))
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="expense")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("支出")
        verbose_name_plural = _("支出")
        ordering = ["school", "paid_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
            models.CheckConstraint(condition=Q(category__in=[a.value for a in SPENDING]),
                                   name="expense_category_is_spending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.amount}"
