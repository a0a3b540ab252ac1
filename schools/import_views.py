"""Roster import pages: upload → preview → confirm, plus the template and the export.

Principals and the after-school office of a school only; anyone else gets 404. The work is
done in schools.importing."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .errors import DomainError
from .importing import (
    MAX_FILE_BYTES,
    XLSX_CONTENT_TYPE,
    roster_export_xlsx,
    roster_import_confirm,
    roster_import_preview,
    roster_template_xlsx,
)
from .models import Role, RosterImport, School
from .params import int_param
from .selectors import school_ids_for
from .tables import download

IMPORT_ROLES = {Role.PRINCIPAL, Role.OFFICE}


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("名册文件（.xlsx）"),
        help_text=gettext_lazy("请使用模板填写，文件不超过 5 MB。"),
        error_messages={"empty": gettext_lazy("文件是空的，请选择填写好的名册文件。"),
                        "required": gettext_lazy("请选择要上传的名册文件。")},
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX_CONTENT_TYPE}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 格式的 Excel 文件。"))
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("文件太大（最大 5 MB）。"))
        return upload


def _schools(user) -> list[School]:
    schools = list(School.objects.filter(pk__in=school_ids_for(user, IMPORT_ROLES)))
    if not schools:
        raise Http404
    return schools


def _chosen_school(request, schools: list[School]) -> School | None:
    """The school in ?school=, or the only one; None when the user must pick one."""
    raw = int_param(request.GET, "school")
    if raw is not None:
        school = next((s for s in schools if s.pk == raw), None)
        if school is None:
            raise Http404
        return school
    return schools[0] if len(schools) == 1 else None


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    schools = _schools(request.user)
    school = _chosen_school(request, schools)
    context = {"schools": schools, "school": school}
    if school is None:
        return render(request, "schools/import/upload.html", context)
    if request.method == "POST":
        form = RosterUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            try:
                roster_import, summary = roster_import_preview(
                    school=school, user=request.user, filename=upload_file.name,
                    content=upload_file.read())
            except DomainError as e:
                form.add_error("file", str(e.message))
            else:
                return render(request, "schools/import/preview.html", {
                    "roster_import": roster_import, "summary": summary, "school": school})
        return render(request, "schools/import/upload.html", context | {"form": form},
                      status=400)
    recent = RosterImport.objects.filter(school=school).select_related("uploaded_by")[:5]
    return render(request, "schools/import/upload.html",
                  context | {"form": RosterUploadForm(), "recent": recent})


@login_required
@require_POST
def confirm(request, pk: int):
    roster_import = get_object_or_404(
        RosterImport.objects.filter(school_id__in=school_ids_for(request.user, IMPORT_ROLES))
        .select_related("school"), pk=pk)
    context = {"roster_import": roster_import, "school": roster_import.school}
    try:
        roster_import, summary = roster_import_confirm(roster_import=roster_import,
                                                       user=request.user)
    except DomainError as e:
        return render(request, "schools/import/preview.html",
                      context | {"summary": roster_import.summary, "error": e.message},
                      status=e.status)
    if roster_import.status != RosterImport.Status.IMPORTED:
        return render(request, "schools/import/preview.html",
                      context | {"roster_import": roster_import, "summary": summary},
                      status=400)
    messages.success(request, _("导入完成：新增 %(new)s 名、更新 %(update)s 名学生。")
                     % {"new": summary["new"], "update": summary["update"]})
    return redirect(f"{reverse('roster_import:upload')}?school={roster_import.school_id}")


@login_required
@require_GET
def template_xlsx(request):
    _schools(request.user)
    return download(roster_template_xlsx(), "学生名册导入模板.xlsx")


@login_required
@require_GET
def export_xlsx(request):
    schools = _schools(request.user)
    school = _chosen_school(request, schools)
    if school is None:
        return redirect("roster_import:upload")
    filename = f"学生名册-{school.name}-{datetime.date.today():%Y%m%d}.xlsx"
    return download(roster_export_xlsx(school=school), filename)
