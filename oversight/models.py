"""Oversight's own records: each compliance workbook generated (who, when, with which filters,
how many rows, whether it holds personal data) and each download of it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.models import District, School


class Workbook(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已生成")
        FAILED = "failed", _("生成失败")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("教育局"))
    semester = models.CharField(_("学期"), max_length=100, blank=True)
    as_of = models.DateField(_("统计日"))
    # The school whose per-student sheet was asked for (names masked, no phone numbers).
    school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("学生明细的学校"))
    personal_data = models.BooleanField(_("含个人信息"), default=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    # Rows per sheet, as the 说明 sheet lists them.
    rows = models.JSONField(default=dict)
    error = models.CharField(max_length=300, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("合规工作簿")
        verbose_name_plural = _("合规工作簿")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.district_id} {self.semester} {self.as_of}"


class WorkbookDownload(models.Model):
    workbook = models.ForeignKey(Workbook, on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.workbook_id} {self.user_id}"
