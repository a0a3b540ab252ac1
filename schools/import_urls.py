from django.urls import path

from . import import_views

app_name = "roster_import"
urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("<int:pk>/confirm/", import_views.confirm, name="confirm"),
    path("template.xlsx", import_views.template_xlsx, name="template"),
    path("export.xlsx", import_views.export_xlsx, name="export"),
]
