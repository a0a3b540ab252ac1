from django.urls import path

from . import api, api_payroll

urlpatterns = [
    path("students/<int:pk>/statement/", api.StatementApi.as_view(), name="api-statement"),
    path("payments/", api.PaymentCreateApi.as_view(), name="api-payments"),
    path("payments/<int:pk>/void/", api.PaymentVoidApi.as_view(), name="api-payment-void"),
    path("payments/<int:pk>/fiscal-receipt/", api.FiscalReceiptApi.as_view(),
         name="api-payment-fiscal-receipt"),
    path("payments/<int:pk>/transfer/", api.PaymentTransferApi.as_view(),
         name="api-payment-transfer"),
    path("schools/<int:pk>/ledger/trial-balance/", api.TrialBalanceApi.as_view(),
         name="api-trial-balance"),
    path("schools/<int:pk>/ledger/journal/", api.JournalApi.as_view(), name="api-journal"),
    path("schools/<int:pk>/subsidies/", api.SubsidyListApi.as_view(), name="api-subsidies"),
    path("schools/<int:pk>/expenses/", api.ExpenseListApi.as_view(), name="api-expenses"),
    path("waivers/", api.WaiverListApi.as_view(), name="api-waivers"),
    path("waivers/<int:pk>/revoke/", api.WaiverRevokeApi.as_view(), name="api-waiver-revoke"),
    path("terms/<int:pk>/settle/", api.SettleApi.as_view(), name="api-term-settle"),
    path("refunds/", api.RefundListApi.as_view(), name="api-refunds"),
    path("refunds/<int:pk>/sent/", api.RefundSentApi.as_view(), name="api-refund-sent"),
    path("refunds/<int:pk>/done/", api.RefundDoneApi.as_view(), name="api-refund-done"),
    path("schools/<int:pk>/payroll/<str:month>/", api_payroll.PayrollApi.as_view(),
         name="api-payroll"),
    path("schools/<int:pk>/payroll/<str:month>/publish/",
         api_payroll.PayrollPublishApi.as_view(), name="api-payroll-publish"),
    path("schools/<int:pk>/payroll/<str:month>/paid/", api_payroll.PayrollPaidApi.as_view(),
         name="api-payroll-paid"),
    path("schools/<int:pk>/pay-rates/", api_payroll.PayRatesApi.as_view(), name="api-pay-rates"),
    path("refunds/<int:pk>/failed/", api.RefundFailedApi.as_view(), name="api-refund-failed"),
]
