from django.urls import path

from . import evidence_views, views

app_name = "enrollment"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("terms/<int:term_id>/plan/", views.plan_detail, name="plan"),
    path("terms/<int:term_id>/plan/edit/", views.plan_edit, name="plan-edit"),
    path("terms/<int:term_id>/apply/<int:student_id>/", views.apply, name="apply"),
    path("terms/<int:term_id>/survey/<int:student_id>/", views.survey, name="survey"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/agreement/", views.agreement_print, name="agreement"),
    path("applications/<int:pk>/resubmit/", views.resubmit, name="resubmit"),
    path("applications/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("applications/<int:pk>/review/", views.review, name="review"),
    path("applications/<int:pk>/decide/", views.decide, name="decide"),
    path("evidence/<int:pk>/", evidence_views.evidence_file, name="evidence"),
    path("review/", views.review_queue, name="review-queue"),
    path("decide/", views.decide_queue, name="decide-queue"),
    path("enrolments/<int:pk>/leave/", views.leave, name="leave"),
    path("leave/", views.leaves, name="leaves"),
    path("leave/<int:pk>/cancel/", views.leave_cancel, name="leave-cancel"),
    path("enrolments/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("withdrawals/<int:pk>/decide/", views.withdrawal_decide, name="withdrawal-decide"),
]
