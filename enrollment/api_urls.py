from django.urls import path

from . import api

urlpatterns = [
    path("terms/<int:term_id>/plan/", api.TermPlanApi.as_view(), name="api-term-plan"),
    path("terms/<int:term_id>/fee-standards/", api.FeeStandardsApi.as_view(),
         name="api-fee-standards"),
    path("applications/", api.ApplicationListApi.as_view(), name="api-applications"),
    path("applications/bulk-review/", api.BulkReviewApi.as_view(),
         name="api-applications-bulk-review"),
    path("applications/bulk-decide/", api.BulkDecideApi.as_view(),
         name="api-applications-bulk-decide"),
    path("applications/<int:pk>/", api.ApplicationDetailApi.as_view(),
         name="api-application-detail"),
    path("applications/<int:pk>/review/", api.ReviewApi.as_view(), name="api-application-review"),
    path("applications/<int:pk>/decide/", api.DecideApi.as_view(), name="api-application-decide"),
    path("applications/<int:pk>/cancel/", api.CancelApi.as_view(), name="api-application-cancel"),
    path("applications/<int:pk>/resubmit/", api.ResubmitApi.as_view(),
         name="api-application-resubmit"),
    path("enrolments/", api.EnrolmentListApi.as_view(), name="api-enrolments"),
    path("enrolments/<int:pk>/withdrawal/", api.WithdrawalApi.as_view(),
         name="api-enrolment-withdrawal"),
    path("withdrawals/<int:pk>/decide/", api.WithdrawalDecideApi.as_view(),
         name="api-withdrawal-decide"),
    path("leave/", api.LeaveApi.as_view(), name="api-leave"),
]
