"""Attendance (POLICY.md R8, R9): class sessions, roll call, incidents, who may take a child,
the handoff of each child, late-pickup escalation, the day's close, and the service records.

Nothing here is edited in place where it is evidence: a correction of a mark is a new mark, a
revoked authorisation keeps its row with the time it was revoked, a refused or conflicting
handoff is a row of its own. Writes that come from a tablet carry the tablet's `client_id`
and the time they happened (`occurred_at`) beside the time the server received them."""

import datetime
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from schools.models import School, ServiceSlot, Staff, Student, Term


class ClassSession(models.Model):
    """One meeting of a temporary class on one date, created ahead by a job (never by hand)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    temporary_class = models.ForeignKey("scheduling.TemporaryClass", on_delete=models.PROTECT,
                                        related_name="sessions", verbose_name=_("临时班"))
    slot = models.ForeignKey(ServiceSlot, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("日期"))
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))
    # Who actually served (R9, teacher pay): the class's head teacher, or a substitute the
    # principal sets.
    teacher = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="served_sessions", verbose_name=_("服务教师"))
    substitute = models.BooleanField(_("代课"), default=False)
    roll_called_at = models.DateTimeField(_("点名时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("课后服务课次")
        verbose_name_plural = _("课后服务课次")
        ordering = ["date", "start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["temporary_class", "date"],
                                    name="att_one_session_per_class_day"),
        ]
        indexes = [
            # A school's day, and the escalation scan of today's sessions.
            models.Index(fields=["school", "date", "end"], name="att_session_day_idx"),
            models.Index(fields=["teacher", "date"], name="att_session_teacher_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.temporary_class} {self.date:%Y-%m-%d}"

    def ends_at(self) -> datetime.datetime:
        from django.utils import timezone

        return timezone.make_aware(datetime.datetime.combine(self.date, self.end))


class TabletWrite(models.Model):
    """What every write from a teacher's tablet carries: its `client_id` (a replay writes
    nothing), the time it happened on the tablet, and the time the server received it (later,
    when the tablet was offline)."""

    client_id = models.UUIDField(_("客户端编号"), unique=True)
    occurred_at = models.DateTimeField(_("发生时间"))
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    class Meta:
        abstract = True


class Mark(TabletWrite):
    """A roll-call mark. The child's status in a session is their latest mark; a correction is
    a new mark, so the first one stays as evidence."""

    class Status(models.TextChoices):
        PRESENT = "present", _("出勤")
        ABSENT = "absent", _("缺勤")
        LATE = "late", _("迟到")
        LEAVE = "leave", _("请假")

    session = models.ForeignKey(ClassSession, on_delete=models.CASCADE, related_name="marks")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("出勤情况"), max_length=10, choices=Status.choices)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    correction = models.BooleanField(_("更正"), default=False)

    class Meta:
        verbose_name = _("点名记录")
        verbose_name_plural = _("点名记录")
        indexes = [models.Index(fields=["session", "student", "occurred_at"],
                                name="att_mark_latest_idx")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.get_status_display()}"


class Incident(TabletWrite):
    """Something that happened to a child during care (R8: help first, tell the guardian at
    once). "Unwell" is one of the three attentions: it stays open on the session until it is
    resolved."""

    class Kind(models.TextChoices):
        UNWELL = "unwell", _("身体不适")
        INJURY = "injury", _("受伤")
        OTHER = "other", _("其他")

    class Resolution(models.TextChoices):
        COLLECTED = "collected", _("已被家长接走")
        RECOVERED = "recovered", _("已恢复")
        OTHER = "other", _("其他")

    session = models.ForeignKey(ClassSession, on_delete=models.PROTECT, related_name="incidents")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    note = models.TextField(_("情况说明"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    acknowledged_at = models.DateTimeField(_("家长确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(_("处理完毕时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    resolution = models.CharField(_("处理结果"), max_length=10, choices=Resolution.choices,
                                  blank=True)

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        ordering = ["-occurred_at"]
        constraints = [models.CheckConstraint(
            condition=Q(resolved_at__isnull=True) | ~Q(resolution=""),
            name="att_incident_resolved_has_resolution")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.student_id}"


class PickupAdult(models.Model):
    """An adult a guardian authorised to collect a child, beyond the guardians themselves:
    from `valid_from` to `valid_to` (either open), on `weekdays` (ISO 1–7; empty: every day),
    until revoked."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="pickup_adults")
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与孩子关系"), max_length=20)
    phone = models.CharField(_("手机"), max_length=20)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True,
                          verbose_name=_("星期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("授权接送人")
        verbose_name_plural = _("授权接送人")
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(
            condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True)
            | Q(valid_to__gte=F("valid_from")), name="att_adult_valid_range")]

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"

    def valid_on(self, day: datetime.date) -> bool:
        return ((self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or day <= self.valid_to)
                and (not self.weekdays or day.isoweekday() in self.weekdays))


class Delegation(models.Model):
    """A guardian's one-day delegation: a named adult may collect the child on `date`,
    presenting `code`."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="delegations")
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机"), max_length=20)
    date = models.DateField(_("日期"))
    code = models.CharField(_("接送码"), max_length=8)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("当日委托接送")
        verbose_name_plural = _("当日委托接送")
        constraints = [models.UniqueConstraint(fields=["student", "date", "code"],
                                               name="att_delegation_code_unique")]

    def __str__(self) -> str:
        return f"{self.name} {self.date:%Y-%m-%d}"


class WalkHomePermission(models.Model):
    """A guardian's signed permission for the child to go home alone on these dates, where the
    school allows it (School.allows_walk_home)."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="walk_home")
    valid_from = models.DateField(_("开始日期"))
    valid_to = models.DateField(_("结束日期"))
    signed_name = models.CharField(_("签名"), max_length=50)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    signed_at = models.DateTimeField(_("签署时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("自行离校许可")
        verbose_name_plural = _("自行离校许可")
        constraints = [models.CheckConstraint(condition=Q(valid_to__gte=F("valid_from")),
                                              name="att_walk_home_range")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.valid_from}–{self.valid_to}"


class RestrictedAdult(models.Model):
    """An adult the school must never hand the child to (e.g. a court order), recorded by the
    school. Matched by phone or by name."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE,
                                related_name="restricted_adults")
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    reason = models.CharField(_("依据"), max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("禁止接送人")
        verbose_name_plural = _("禁止接送人")

    def __str__(self) -> str:
        return self.name


class Handoff(TabletWrite):
    """A child released at the end of a session (R8 无缝衔接): once per session."""

    class To(models.TextChoices):
        GUARDIAN = "guardian", _("家长或授权接送人")
        BUS = "bus", _("校车")
        SELF = "self", _("自行离校")
        TRANSFER = "transfer", _("转入下一课次")
        # After a morning or noon session the children go back to their lessons, not home.
        LESSONS = "lessons", _("回班上课")

    class Via(models.TextChoices):
        LIST = "list", _("名单核对")
        CODE = "code", _("当日接送码")
        DELEGATION = "delegation", _("委托接送码")
        NONE = "", _("无")

    session = models.ForeignKey(ClassSession, on_delete=models.PROTECT, related_name="handoffs")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    released_to = models.CharField(_("去向"), max_length=10, choices=To.choices)
    via = models.CharField(_("核验方式"), max_length=10, choices=Via.choices, blank=True)
    # Who took the child, as they were recorded at the time (the list may change later).
    person_name = models.CharField(_("接送人"), max_length=50, blank=True)
    person_relation = models.CharField(_("关系"), max_length=20, blank=True)
    guardian = models.ForeignKey("schools.Guardian", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")
    pickup_adult = models.ForeignKey(PickupAdult, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    delegation = models.ForeignKey(Delegation, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    transfer_to = models.ForeignKey(ClassSession, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="transfers_in")
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    # Arrived after the school's day was closed (a tablet that was offline).
    synced_late = models.BooleanField(_("延迟同步"), default=False)

    class Meta:
        verbose_name = _("放学交接")
        verbose_name_plural = _("放学交接")
        constraints = [
            # A child is released once per session; a second, different release is a
            # HandoffConflict.
            models.UniqueConstraint(fields=["session", "student"], name="att_one_handoff"),
            models.CheckConstraint(
                condition=~Q(released_to="transfer") | Q(transfer_to__isnull=False),
                name="att_transfer_has_target"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} → {self.person_name or self.get_released_to_display()}"


class Refusal(TabletWrite):
    """A release the system refused (R8: only an authorised person takes a child): who asked,
    what was presented, to whom, when."""

    class Reason(models.TextChoices):
        NOT_LISTED = "not_listed", _("不在授权名单")
        REVOKED = "revoked", _("授权已撤销")
        NOT_TODAY = "not_today", _("授权不在今天有效")
        RESTRICTED = "restricted", _("禁止接送人")
        WRONG_CODE = "wrong_code", _("接送码错误")
        OTHER_DAY_CODE = "other_day_code", _("不是今天的接送码")
        NO_WALK_HOME = "no_walk_home", _("没有自行离校许可")
        NOT_BUS_RIDER = "not_bus_rider", _("不是校车学生")

    session = models.ForeignKey(ClassSession, on_delete=models.PROTECT, related_name="refusals")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    presented = models.JSONField(_("出示的信息"), default=dict)
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        verbose_name = _("拒绝交接")
        verbose_name_plural = _("拒绝交接")
        indexes = [models.Index(fields=["session"], name="att_refusal_session_idx")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.get_reason_display()}"


class HandoffConflict(TabletWrite):
    """A second, different release of a child already released in the session (two tablets,
    or a mistake): refused, and shown to the principal."""

    session = models.ForeignKey(ClassSession, on_delete=models.PROTECT, related_name="conflicts")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="conflicts")
    attempted = models.JSONField(_("尝试的交接"), default=dict)
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        verbose_name = _("交接冲突")
        verbose_name_plural = _("交接冲突")


    def __str__(self) -> str:
        return f"{self.student_id} ≠ {self.handoff_id}"

class HandoffDispute(models.Model):
    """A guardian's "that was not us" about a handoff: the principal is alerted."""

    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="disputes")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    note = models.CharField(_("说明"), max_length=500, blank=True)
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("交接异议")
        verbose_name_plural = _("交接异议")


    def __str__(self) -> str:
        return f"{self.handoff_id}: {self.note}"

class LatePickup(models.Model):
    """A child present and not collected after the session's end (R8's third attention), by
    escalation step: 1 the guardians, 2 the other authorised adults and the homeroom teacher,
    3 the duty leader and principal. Each step once; the district counts step 1 rows."""

    session = models.ForeignKey(ClassSession, on_delete=models.PROTECT,
                                related_name="late_pickups")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    step = models.PositiveSmallIntegerField(_("提醒级别"))
    at = models.DateTimeField(_("提醒时间"))

    class Meta:
        verbose_name = _("延时接送")
        verbose_name_plural = _("延时接送")
        constraints = [models.UniqueConstraint(fields=["session", "student", "step"],
                                               name="att_late_pickup_once")]


    def __str__(self) -> str:
        return f"{self.student_id} {self.step}"

class DayClose(models.Model):
    """The school's day closed by the principal or duty leader once no child present is left
    without a handoff (R8: no child left on campus)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("日期"))
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(_("关闭时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("日终确认")
        verbose_name_plural = _("日终确认")
        constraints = [models.UniqueConstraint(fields=["school", "date"],
                                               name="att_one_close_per_day")]


    def __str__(self) -> str:
        return f"{self.school_id} {self.date}"

class ServiceRecord(TabletWrite):
    """The serving teacher's daily service record (R9): what was done, anything unusual. A
    later record of the same session supersedes the earlier one, which stays."""

    session = models.ForeignKey(ClassSession, on_delete=models.PROTECT, related_name="records")
    content = models.TextField(_("服务内容"))
    notes = models.TextField(_("特殊情况"), blank=True)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-occurred_at", "-id"]


    def __str__(self) -> str:
        return f"{self.session_id} {self.occurred_at:%Y-%m-%d %H:%M}"

class ClientWrite(models.Model):
    """What a tablet's write (`client_id`) answered, so a replay answers the same and writes
    nothing, and a reuse of the id for another body is refused."""

    client_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = models.CharField(max_length=20)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("客户端写入")
        verbose_name_plural = _("客户端写入")

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id}"


class ClassWeekArchive(models.Model):
    """A temporary class's weekly activity record as archived at the end of its term (R9:
    filled in each week by the class's head teacher, handed to the school at term end for
    inspection). Generated from the daily service records and the attendance of its sessions;
    once archived it is this snapshot that inspectors read, not a fresh computation."""

    temporary_class = models.OneToOneField("scheduling.TemporaryClass", on_delete=models.PROTECT,
                                           related_name="week_archive")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField()
    archived_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("班级每周活动记录存档")
        verbose_name_plural = _("班级每周活动记录存档")

    def __str__(self) -> str:
        return f"{self.data.get('class', '')} {self.data.get('week', '')}"


class TeacherMonthTable(models.Model):
    """A month's table of teachers' service attendance, published to the school's staff (R9:
    monthly publication): sessions and class-hours each teacher served, substitutions shown.
    Published once; the rows are the snapshot the staff saw."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("月份"), help_text=_("该月的第一天。"))
    rows = models.JSONField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("教师课后服务考勤月表")
        verbose_name_plural = _("教师课后服务考勤月表")
        constraints = [models.UniqueConstraint(fields=["school", "month"],
                                               name="att_one_month_table")]

    def __str__(self) -> str:
        return f"{self.school_id} {self.month:%Y-%m}"
