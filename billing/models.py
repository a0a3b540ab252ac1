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

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("学校"))
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveIntegerField(_("凭证号"))
    date = models.DateField(_("记账日期"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
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
