"""The billing stage's audit action names, defined once; labels are what a history shows."""

from django.utils.translation import gettext_lazy as _

from schools.audit import AuditAction


class BillingAction(AuditAction):
    PAYMENT_RECORDED = "billing.payment.recorded", _("登记收费")
    PAYMENT_VOIDED = "billing.payment.voided", _("冲销收据")
    PAYMENT_TRANSFERRED = "billing.payment.transferred", _("收费转记")
    FISCAL_RECEIPT_RECORDED = "billing.payment.fiscal_receipt", _("登记财政电子票据")
    WAIVER_GRANTED = "billing.waiver.granted", _("批准减免")
    WAIVER_REVOKED = "billing.waiver.revoked", _("撤销减免")
    SUBSIDY_RECORDED = "billing.subsidy.recorded", _("登记财政拨款")
    EXPENSE_RECORDED = "billing.expense.recorded", _("登记支出")
    TERM_SETTLED = "billing.term.settled", _("学期结算")
    REFUND_SENT = "billing.refund.sent", _("提交退费")
    REFUND_DONE = "billing.refund.done", _("退费完成")
    REFUND_FAILED = "billing.refund.failed", _("退费失败")
    PAY_RATE_SET = "billing.pay_rate.set", _("设定课时费标准")
    PAYROLL_DRAFTED = "billing.payroll.drafted", _("编制劳务费月表")
    PAYROLL_PUBLISHED = "billing.payroll.published", _("公布劳务费月表")
    PAYROLL_PAID = "billing.payroll.paid", _("支付劳务费")
