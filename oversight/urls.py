from django.urls import path

from . import views

app_name = "oversight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("schools/<int:pk>/", views.school, name="school"),
    path("workbooks/compliance.xlsx", views.compliance_xlsx, name="compliance-xlsx"),
    path("workbooks/<int:pk>/", views.workbook_page, name="workbook"),
    path("workbooks/<int:pk>/download/", views.workbook_download, name="workbook-download"),
]
