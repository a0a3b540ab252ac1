from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("收费与结算")

    def ready(self) -> None:
        from enrollment.events import enrolments_started, fee_standard_published

        from .services import on_enrolments_started, on_fee_standard_published

        # Charges are posted in the transaction of the approval or the fee version (R11).
        enrolments_started.connect(on_enrolments_started, dispatch_uid="billing.charges")
        fee_standard_published.connect(on_fee_standard_published,
                                       dispatch_uid="billing.charges.standard")
