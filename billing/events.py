"""The billing stage's audit action names, defined once; labels are what a history shows."""

from django.utils.translation import gettext_lazy as _

from schools.audit import AuditAction


class BillingAction(AuditAction):
    PAYMENT_RECORDED = "billing.payment.recorded", _("登记收费")
    PAYMENT_VOIDED = "billing.payment.voided", _("冲销收据")
