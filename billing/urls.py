from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("", views.home, name="home"),
    path("students/<int:pk>/", views.statement, name="statement"),
    path("register/", views.register, name="register"),
    path("receipts/<int:pk>/", views.receipt, name="receipt"),
    path("trial-balance/", views.trial_balance, name="trial-balance"),
    path("account/", views.account, name="account"),
    path("refunds/", views.refunds, name="refunds"),
    path("term/", views.term, name="term"),
    path("payroll/<str:month>/", views.payroll_month, name="payroll"),
    path("exports/<str:report>.<str:fmt>", views.export, name="export"),
    path("terms/<int:pk>/settle-job/", views.settle_job, name="settle-job"),
]
