"""Enrollment: the published term plan (R2), needs survey, applications with their signature on
the safety agreement (R1, R3, R4), class review, principal approval, enrolments, leave and
withdrawal (R10)."""

import datetime
import hashlib
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from schools.formats import date_label
from schools.models import PriorityCategory, School, ServiceSlot, Student, Term

from .evidence import STORED_EXTENSIONS, private_storage, sniff_type


class TermPlan(models.Model):
    """The school's term plan. A draft is edited; publishing freezes it as a numbered version,
    and a later change is a new draft published as the next version (R2: disclosure)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已公示")

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="plans",
                             verbose_name=_("学期"))
    version = models.PositiveIntegerField(_("版本"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    service_days = models.TextField(_("服务日期与时间"), blank=True)
    menu_outline = models.TextField(_("服务内容（菜单）"), blank=True)
    staffing = models.TextField(_("服务人员"), blank=True)
    fee_standard = models.TextField(_("收费标准"), blank=True)
    fee_settlement = models.TextField(_("结算方式"), blank=True)
    withdrawal_rule = models.TextField(_("退出办法"), blank=True)
    safety_measures = models.TextField(_("安全措施"), blank=True)
    agreement_text = models.TextField(_("安全责任书"))
    complaint_phone = models.CharField(_("咨询投诉电话"), max_length=30)
    complaint_email = models.EmailField(_("咨询投诉邮箱"), blank=True)
    applications_open = models.DateField(_("报名开始"), null=True, blank=True)
    applications_close = models.DateField(_("报名截止"), null=True, blank=True)
    # The slots as published, frozen with the version (the term's slots may change later).
    slots_snapshot = models.JSONField(_("公示时段"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("学期方案")
        verbose_name_plural = _("学期方案")
        ordering = ["term", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["term", "version"], name="plan_version_unique"),
            models.UniqueConstraint(fields=["term"], condition=Q(status="draft"),
                                    name="plan_one_draft_per_term"),
            models.CheckConstraint(
                condition=Q(status="draft", version__isnull=True)
                | Q(status="published", version__isnull=False, published_at__isnull=False),
                name="plan_published_has_version"),
            models.CheckConstraint(
                condition=Q(applications_open__isnull=True) | Q(applications_close__isnull=True)
                | Q(applications_close__gte=models.F("applications_open")),
                name="plan_close_after_open",
                violation_error_code="close_before_open",
                violation_error_message=_("报名截止日期不能早于开始日期。")),
        ]

    def __str__(self) -> str:
        if self.version:
            return _("%(term)s 方案第%(version)s版") % {"term": self.term, "version": self.version}
        return _("%(term)s 方案草稿") % {"term": self.term}

    def published_slots(self) -> list[dict]:
        """The frozen slots with their labels, for the disclosure page."""
        from schools.models import WEEKDAY_NAMES, ServiceSlot

        kinds = dict(ServiceSlot.Kind.choices)
        return [{**s, "weekday_name": WEEKDAY_NAMES.get(s["weekday"], s["weekday"]),
                 "kind_name": kinds.get(s["kind"], s["kind"])} for s in self.slots_snapshot]

    def takes_applications_on(self, day: datetime.date) -> bool:
        """R2: inside the application window (an open bound does not limit it)."""
        return ((self.applications_open is None or self.applications_open <= day)
                and (self.applications_close is None or day <= self.applications_close))

    @property
    def agreement_digest(self) -> str:
        return hashlib.sha256(self.agreement_text.encode()).hexdigest()


class FeeStandard(models.Model):
    """R11: the term's fee standard, part of the plan guardians sign. Each version is approved
    outside the system (its authority and reference are recorded) and published here; once
    published it is never changed (the database refuses): a new rate is a new version from its
    own effective date, and the days before it keep the rate they had."""

    # The modes a school's fee can take (R11), defined once in the ground.
    Mode = School.FeeMode

    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="fee_standards",
                             verbose_name=_("学期"))
    version = models.PositiveSmallIntegerField(_("版本"))
    mode = models.CharField(_("收费方式"), max_length=10, choices=Mode.choices)
    # Yuan per child and class-hour (per_hour), or per child and term (per_term); 0 when free.
    rate = models.DecimalField(_("收费标准（元）"), max_digits=12, decimal_places=2)
    effective_from = models.DateField(_("生效日期"))
    approved_by = models.CharField(_("审批机关"), max_length=100)
    approval_ref = models.CharField(_("批准文号"), max_length=100)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("发布人"))
    published_at = models.DateTimeField(_("发布时间"))

    class Meta:
        verbose_name = _("收费标准")
        verbose_name_plural = _("收费标准")
        ordering = ["term", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["term", "version"], name="fee_standard_version"),
            models.UniqueConstraint(fields=["term", "effective_from"],
                                    name="fee_standard_one_per_effective_date"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="fee_standard_rate_not_negative"),
            models.CheckConstraint(condition=~Q(mode="free") | Q(rate=0),
                                   name="fee_standard_free_has_no_rate"),
        ]

    def __str__(self) -> str:
        return _("%(term)s 收费标准第 %(v)s 版") % {"term": self.term, "v": self.version}

    @property
    def description(self) -> str:
        """The plan's fee paragraph for this version (R11)."""
        if self.mode == self.Mode.FREE:
            text = _("本学期课后服务免费（财政保障），不向家长收取费用。")
        elif self.mode == self.Mode.PER_HOUR:
            text = _("每生每课时 %(rate)s 元（各时段课时数见服务时段），每学期一次性预收，"
                     "学期末按实际服务结算，多退少补。") % {"rate": self.rate}
        else:
            text = _("每生每学期 %(rate)s 元，学期中途参加的按实际服务课时折算，学期末结算，"
                     "多退少补。") % {"rate": self.rate}
        return _("%(text)s 自 %(date)s 起执行；审批：%(by)s %(ref)s。") % {
            "text": text, "date": date_label(self.effective_from), "by": self.approved_by,
            "ref": self.approval_ref}


class SurveyResponse(models.Model):
    """调查摸底: before applications open, which slots a family would need."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="survey_responses")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+")
    slots = models.ManyToManyField(ServiceSlot, related_name="+", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("需求调查")
        verbose_name_plural = _("需求调查")
        constraints = [
            models.UniqueConstraint(fields=["term", "student"], name="survey_one_per_student"),
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.student}"


class Application(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        CLASS_APPROVED = "class_approved", _("班级审核通过")
        RETURNED = "returned", _("退回修改")
        REJECTED = "rejected", _("未通过")
        APPROVED = "approved", _("已批准")
        CANCELLED = "cancelled", _("已撤回")

    OPEN_STATUSES = (Status.SUBMITTED, Status.CLASS_APPROVED, Status.RETURNED)

    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="applications",
                             verbose_name=_("学期"))
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="applications",
                                verbose_name=_("学生"))
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="applications", verbose_name=_("申请人"))
    slots = models.ManyToManyField(ServiceSlot, related_name="applications",
                                   verbose_name=_("申请时段"))
    priority_claims = ArrayField(
        models.CharField(max_length=20, choices=PriorityCategory.choices), default=list,
        blank=True, verbose_name=_("优先保障申报"))
    note = models.TextField(_("备注"), blank=True, max_length=500)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices,
                              default=Status.SUBMITTED)
    plan = models.ForeignKey(TermPlan, on_delete=models.PROTECT, related_name="applications",
                             verbose_name=_("所签方案版本"))
    start_date = models.DateField(_("希望开始日期"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"))
    reviewed_at = models.DateTimeField(_("班级审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("校长审定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    reason = models.TextField(_("理由"), blank=True)
    # R4: lower grades and claimed groups are served first; computed at submission for ordering.
    is_priority = models.BooleanField(_("优先保障"), default=False, db_index=True)

    class Meta:
        verbose_name = _("报名申请")
        verbose_name_plural = _("报名申请")
        ordering = ["-is_priority", "submitted_at", "id"]
        constraints = [
            # One open application per child and term (409 already_open), held by the database.
            models.UniqueConstraint(
                fields=["student", "term"],
                condition=Q(status__in=["submitted", "class_approved", "returned"]),
                name="application_one_open_per_student_term"),
            models.CheckConstraint(
                condition=~Q(status__in=["returned", "rejected"]) | ~Q(reason=""),
                name="application_return_reject_has_reason"),
        ]
        indexes = [models.Index(fields=["term", "status"], name="application_term_status_idx")]

    def __str__(self) -> str:
        return _("%(student)s 的报名（%(term)s）") % {"student": self.student, "term": self.term}

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("enrollment:application", args=[self.pk])

    def claim_pairs(self) -> list[tuple[str, str]]:
        labels = dict(PriorityCategory.choices)
        return [(code, str(labels.get(code, code))) for code in self.priority_claims]

    def claim_labels(self) -> list[str]:
        return [label for _code, label in self.claim_pairs()]


def evidence_upload_to(instance: "ClaimEvidence", filename: str) -> str:
    """A random name with the extension of the type the file's own bytes show: never the
    uploader's file name, which is guessable and often names the child."""
    try:
        checked = sniff_type(instance.file.file)
    except (ValueError, OSError):  # no content in hand (a name saved without its file)
        checked = None
    return f"evidence/{uuid.uuid4().hex}.{STORED_EXTENSIONS.get(checked, 'bin')}"


class ClaimEvidence(models.Model):
    """Evidence for a priority claim (image or PDF), and the homeroom teacher's verification.
    The file lives in the private storage and is read only through `enrollment:evidence`."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="evidence")
    code = models.CharField(_("类别"), max_length=20, choices=PriorityCategory.choices)
    file = models.FileField(_("证明材料"), upload_to=evidence_upload_to, storage=private_storage)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("证明材料")
        verbose_name_plural = _("证明材料")

    def __str__(self) -> str:
        return f"{self.application_id} {self.get_code_display()}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("enrollment:evidence", args=[self.pk])


class Signature(models.Model):
    """The guardian's signature on one version of the safety-responsibility agreement (R1:
    who signed, when, from where, which text version)."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT,
                                    related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    plan = models.ForeignKey(TermPlan, on_delete=models.PROTECT, related_name="signatures")
    signed_name = models.CharField(_("签名"), max_length=50)
    signed_at = models.DateTimeField(_("签署时间"))
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=300, blank=True)
    agreement_digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("安全责任书签署")
        verbose_name_plural = _("安全责任书签署")
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.signed_name} {self.signed_at:%Y-%m-%d %H:%M}"


class Enrolment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("在读")
        ENDED = "ended", _("已退出")

    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="enrolments")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="enrolments")
    application = models.OneToOneField(Application, on_delete=models.PROTECT,
                                       related_name="enrolment")
    slots = models.ManyToManyField(ServiceSlot, related_name="enrolments")
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("在读登记")
        verbose_name_plural = _("在读登记")
        ordering = ["term", "student"]
        constraints = [
            models.UniqueConstraint(fields=["student", "term"], condition=Q(status="active"),
                                    name="enrolment_one_active_per_student_term"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="enrolment_end_after_start"),
        ]

    def __str__(self) -> str:
        return _("%(student)s 在读（%(term)s）") % {"student": self.student, "term": self.term}

    @staticmethod
    def in_force_q(start: datetime.date, end: datetime.date | None = None, *,
                   path: str = "") -> Q:
        """Active enrolments that cover some day of [start, end] (one day when `end` is
        None), as a condition on `path` (e.g. "enrolment__"): the rule of `covers` in SQL."""
        end = end or start
        return (Q(**{f"{path}status": Enrolment.Status.ACTIVE, f"{path}start_date__lte": end})
                & (Q(**{f"{path}end_date__isnull": True})
                   | Q(**{f"{path}end_date__gte": start})))

    def covers(self, day: datetime.date, slot: ServiceSlot | int | None = None) -> bool:
        """Whether the enrolment is in force on `day` (started, not ended or withdrawn), and
        with `slot`, whether that slot is one of its own (uses prefetched slots if any)."""
        if not covers_day(self.status, self.start_date, self.end_date, day):
            return False
        if slot is None:
            return True
        slot_id = getattr(slot, "pk", slot)
        return any(s.pk == slot_id for s in self.slots.all())


def covers_day(status: str, start_date: datetime.date, end_date: datetime.date | None,
               day: datetime.date) -> bool:
    """The rule of an enrolment in force on a day, on its plain values (for rows read with
    `values_list`); `Enrolment.in_force_q` is the same rule in SQL."""
    return (status == Enrolment.Status.ACTIVE and start_date <= day
            and (end_date is None or end_date >= day))


class Leave(models.Model):
    """请假: the child is expected absent, excused, for one date and slot."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="leaves")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="leaves")
    date = models.DateField(_("日期"))
    slot = models.ForeignKey(ServiceSlot, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("事由"), max_length=200)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)
    # Reported on the day itself after the school's cut-off: accepted, the roll-taker told.
    late = models.BooleanField(_("迟报"), default=False)

    class Meta:
        verbose_name = _("请假")
        verbose_name_plural = _("请假")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["student", "date", "slot"],
                                    name="leave_one_per_student_date_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.date}"


class Withdrawal(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT,
                                  related_name="withdrawals")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    effective_date = models.DateField(_("生效日期"))
    reason = models.CharField(_("原因"), max_length=300)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("退出申请")
        verbose_name_plural = _("退出申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment"], condition=Q(status="requested"),
                                    name="withdrawal_one_pending_per_enrolment"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} → {self.effective_date}"
