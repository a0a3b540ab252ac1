from django.urls import path

from . import api

urlpatterns = [
    path("students/<int:pk>/statement/", api.StatementApi.as_view(), name="api-statement"),
    path("payments/", api.PaymentCreateApi.as_view(), name="api-payments"),
    path("payments/<int:pk>/void/", api.PaymentVoidApi.as_view(), name="api-payment-void"),
    path("schools/<int:pk>/ledger/trial-balance/", api.TrialBalanceApi.as_view(),
         name="api-trial-balance"),
    path("schools/<int:pk>/ledger/journal/", api.JournalApi.as_view(), name="api-journal"),
]
