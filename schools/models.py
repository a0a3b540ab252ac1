"""The roster every stage reads: districts, schools, terms and calendars, service slots, grades,
homerooms, students, guardians, staff, role memberships, and the audit trail.

Personal data is kept to what the policy needs (PIPL: minors' data is sensitive): no ID-card
numbers, no addresses; a guardian's phone is the contact the school already holds.
"""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A login. What it may see follows from its memberships and guardian links."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name or self.username


class District(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("代码"), max_length=20, unique=True)
    # R5: the service ends no earlier than the local normal off-work time (001).
    off_work_time = models.TimeField(_("当地正常下班时间"), default=datetime.time(17, 30))
    # R11: the price authority's cap on the fee per class-hour (the district's filing).
    fee_cap_per_hour = models.DecimalField(_("每课时收费上限（元）"), max_digits=12,
                                           decimal_places=2, default=Decimal("3.00"))

    class Meta:
        verbose_name = _("教育局")
        verbose_name_plural = _("教育局")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    class Stage(models.TextChoices):
        PRIMARY = "primary", _("小学")
        MIDDLE = "middle", _("初中")
        NINE_YEAR = "nine_year", _("九年一贯制")

    class FeeMode(models.TextChoices):
        FREE = "free", _("免费（财政保障）")
        PER_HOUR = "per_hour", _("按课时收费")
        PER_TERM = "per_term", _("按学期定额收费")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools",
                                 verbose_name=_("教育局"))
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("代码"), max_length=20, unique=True)
    stage = models.CharField(_("学段"), max_length=20, choices=Stage.choices,
                             default=Stage.PRIMARY)
    # R7: temporary classes of at most 40 or 45, a school setting.
    temp_class_cap = models.PositiveSmallIntegerField(
        _("临时班人数上限"), default=45, choices=[(40, "40"), (45, "45")])
    # R10: withdrawal asked at least one week ahead.
    withdrawal_notice_days = models.PositiveSmallIntegerField(
        _("退出提前天数"), default=7, validators=[MinValueValidator(0), MaxValueValidator(60)])
    # R10: leave for a day is reported by this time that day; later it is still accepted, with
    # a warning, and the teacher who takes the roll is told at once.
    leave_cutoff = models.TimeField(_("当天请假截止时间"), default=datetime.time(11, 0))
    # R5: latest end of the afternoon service, by season ("一校一案").
    latest_end_summer = models.TimeField(_("夏季最晚结束时间"), default=datetime.time(18, 0))
    latest_end_winter = models.TimeField(_("冬季最晚结束时间"), default=datetime.time(18, 0))
    summer_from_month = models.PositiveSmallIntegerField(
        _("夏令时起始月"), default=5, validators=[MinValueValidator(1), MaxValueValidator(12)])
    winter_from_month = models.PositiveSmallIntegerField(
        _("冬令时起始月"), default=10, validators=[MinValueValidator(1), MaxValueValidator(12)])
    # R11: free, or cost recovery per class-hour (e.g. 2 yuan) or per term.
    fee_mode = models.CharField(_("收费方式"), max_length=20, choices=FeeMode.choices,
                                default=FeeMode.PER_HOUR)
    fee_per_hour = models.DecimalField(_("每课时收费（元）"), max_digits=12, decimal_places=2,
                                       default=Decimal("2.00"))
    fee_per_term = models.DecimalField(_("每学期收费（元）"), max_digits=12, decimal_places=2,
                                       default=Decimal("0.00"))
    # R6 菜单双选: how many ranked choices a guardian may give per slot.
    choices_per_slot = models.PositiveSmallIntegerField(
        _("每时段可选志愿数"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)])
    complaint_phone = models.CharField(_("咨询投诉电话"), max_length=30, blank=True)
    complaint_email = models.EmailField(_("咨询投诉邮箱"), blank=True)
    # R8 three attentions: a child not collected this long after the session's end is a late
    # pickup, and the guardians are messaged (then others at +20 and +30 minutes).
    pickup_grace_minutes = models.PositiveSmallIntegerField(
        _("放学后等待家长的宽限分钟数"), default=10, validators=[MaxValueValidator(120)])
    allows_walk_home = models.BooleanField(
        _("允许凭家长书面许可自行离校"), default=False)
    # R11 学期末结算: an absence without leave is charged (the place was kept) unless the school
    # decides otherwise.
    charges_unexplained_absences = models.BooleanField(
        _("未请假缺勤照常收费"), default=True)

    class Meta:
        verbose_name = _("学校")
        verbose_name_plural = _("学校")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(temp_class_cap__in=[40, 45]),
                                   name="school_temp_class_cap_40_or_45"),
            models.CheckConstraint(condition=Q(fee_per_hour__gte=0) & Q(fee_per_term__gte=0),
                                   name="school_fees_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_winter(self, day: datetime.date) -> bool:
        """Winter runs from winter_from_month up to (not including) summer_from_month."""
        s, w, m = self.summer_from_month, self.winter_from_month, day.month
        if w > s:
            return m >= w or m < s
        return w <= m < s

    def latest_end_on(self, day: datetime.date) -> datetime.time:
        return self.latest_end_winter if self.is_winter(day) else self.latest_end_summer


class Term(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="terms",
                               verbose_name=_("学校"))
    name = models.CharField(_("学期"), max_length=50)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    # R5: a school may exclude a weekday (e.g. Thursday for teacher training); 1 = Monday.
    excluded_weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True,
                                   verbose_name=_("不服务的星期"))

    class Meta:
        verbose_name = _("学期")
        verbose_name_plural = _("学期")
        ordering = ["school", "-start"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="term_unique_name_per_school"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")),
                                   name="term_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.name}"



class TermCalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("节假日")
        MAKEUP = "makeup", _("调休上课日")

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="calendar_days")
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    # A make-up day (调休上课) runs the timetable of the weekday it stands for, e.g. a
    # Saturday that runs Monday's slots; 1 = Monday.
    runs_as_weekday = models.PositiveSmallIntegerField(
        _("按星期几上课"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)])
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("校历日")
        verbose_name_plural = _("校历")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["term", "date"], name="calendar_day_unique_per_term"),
            models.CheckConstraint(
                condition=(Q(kind="makeup", runs_as_weekday__isnull=False, runs_as_weekday__gte=1,
                             runs_as_weekday__lte=5)
                           | Q(~Q(kind="makeup"), runs_as_weekday__isnull=True)),
                name="calendar_day_makeup_names_its_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class ServiceSlot(models.Model):
    class Kind(models.TextChoices):
        MORNING = "morning", _("晨间")
        NOON = "noon", _("午间")
        AFTERNOON = "afternoon", _("课后")
        EVENING = "evening", _("晚自习")

    # R12: noon service counts 2 class-hours, afternoon 1.
    DEFAULT_CLASS_HOURS = {
        Kind.MORNING: Decimal("1"), Kind.NOON: Decimal("2"),
        Kind.AFTERNOON: Decimal("1"), Kind.EVENING: Decimal("1"),
    }

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="slots",
                             verbose_name=_("学期"))
    kind = models.CharField(_("时段"), max_length=10, choices=Kind.choices)
    weekday = models.PositiveSmallIntegerField(
        _("星期"), validators=[MinValueValidator(1), MaxValueValidator(7)])
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))
    class_hours = models.DecimalField(_("课时"), max_digits=4, decimal_places=1)

    class Meta:
        verbose_name = _("服务时段")
        verbose_name_plural = _("服务时段")
        ordering = ["term", "weekday", "start"]
        constraints = [
            models.UniqueConstraint(fields=["term", "kind", "weekday"],
                                    name="slot_unique_kind_weekday_per_term"),
            models.CheckConstraint(condition=Q(weekday__gte=1) & Q(weekday__lte=7),
                                   name="slot_weekday_1_to_7"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")),
                                   name="slot_end_after_start"),
            models.CheckConstraint(condition=Q(class_hours__gt=0),
                                   name="slot_class_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{WEEKDAY_NAMES[self.weekday]} {self.get_kind_display()} " \
               f"{self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def duration_minutes(self) -> int:
        start = datetime.datetime.combine(datetime.date.min, self.start)
        end = datetime.datetime.combine(datetime.date.min, self.end)
        return int((end - start).total_seconds() // 60)


WEEKDAY_NAMES = {1: _("周一"), 2: _("周二"), 3: _("周三"), 4: _("周四"), 5: _("周五"),
                 6: _("周六"), 7: _("周日")}


class Grade(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="grades")
    number = models.PositiveSmallIntegerField(
        _("年级"), validators=[MinValueValidator(1), MaxValueValidator(9)])
    name = models.CharField(_("名称"), max_length=20)

    class Meta:
        verbose_name = _("年级")
        verbose_name_plural = _("年级")
        ordering = ["school", "number"]
        constraints = [
            models.UniqueConstraint(fields=["school", "number"], name="grade_unique_per_school"),
            models.CheckConstraint(condition=Q(number__gte=1) & Q(number__lte=9),
                                   name="grade_number_1_to_9"),
        ]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    class Kind(models.TextChoices):
        TEACHER = "teacher", _("本校教师")
        PROVIDER = "provider", _("校外机构人员")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="staff")
    user = models.OneToOneField("schools.User", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="staff_profile")
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.TEACHER)
    provider_name = models.CharField(_("所属机构"), max_length=100, blank=True)
    active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("教职工")
        verbose_name_plural = _("教职工")
        ordering = ["school", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="teacher") | ~Q(provider_name=""),
                name="staff_provider_needs_provider_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The full name, and the provider for external staff (R13): 陈志远（某培训中心）."""
        return f"{self.name}（{self.provider_name}）" if self.provider_name else self.name


class Homeroom(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="homerooms")
    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="homerooms")
    name = models.CharField(_("班级"), max_length=30)
    head_teacher = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="homerooms", verbose_name=_("班主任"))

    class Meta:
        verbose_name = _("行政班")
        verbose_name_plural = _("行政班")
        ordering = ["school", "grade__number", "name"]
        constraints = [
            models.UniqueConstraint(fields=["grade", "name"], name="homeroom_unique_per_grade"),
        ]

    def __str__(self) -> str:
        return f"{self.grade.name}{self.name}"


class PriorityCategory(models.TextChoices):
    """R4 priority groups that are claimed (lower grades follow from the grade itself)."""

    DISABLED = "disabled", _("残疾儿童")
    LEFT_BEHIND = "left_behind", _("留守儿童")
    MIGRANT = "migrant", _("进城务工人员随迁子女")
    LOW_INCOME = "low_income", _("家庭经济困难")
    DUAL_WORKING = "dual_working", _("双职工家庭")


class Student(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "F", _("女")
        MALE = "M", _("男")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="students")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="students")
    homeroom = models.ForeignKey(Homeroom, on_delete=models.PROTECT, related_name="students")
    student_no = models.CharField(_("学号"), max_length=30)
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    boarding = models.BooleanField(_("寄宿生"), default=False)
    bus_rider = models.BooleanField(_("乘坐校车"), default=False)
    priority_categories = ArrayField(
        models.CharField(max_length=20, choices=PriorityCategory.choices), default=list,
        blank=True, verbose_name=_("优先保障类别"))
    active = models.BooleanField(_("在籍"), default=True)

    class Meta:
        verbose_name = _("学生")
        verbose_name_plural = _("学生")
        ordering = ["school", "grade__number", "homeroom__name", "student_no"]
        constraints = [
            models.UniqueConstraint(fields=["school", "student_no"],
                                    name="student_no_unique_per_school"),
        ]
        indexes = [models.Index(fields=["homeroom", "name"], name="student_homeroom_name_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("schools:student-detail", args=[self.pk])

    def priority_labels(self) -> list[str]:
        labels = dict(PriorityCategory.choices)
        return [str(labels.get(code, code)) for code in self.priority_categories]


class Guardian(models.Model):
    user = models.OneToOneField("schools.User", on_delete=models.CASCADE,
                                related_name="guardian_profile")
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机"), max_length=20, unique=True)
    students = models.ManyToManyField(Student, through="GuardianStudent",
                                      related_name="guardians")

    class Meta:
        verbose_name = _("监护人")
        verbose_name_plural = _("监护人")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GuardianStudent(models.Model):
    class Relation(models.TextChoices):
        FATHER = "father", _("父亲")
        MOTHER = "mother", _("母亲")
        GRANDPARENT = "grandparent", _("祖父母/外祖父母")
        OTHER = "other", _("其他监护人")

    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="links")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="guardian_links")
    relation = models.CharField(_("关系"), max_length=20, choices=Relation.choices)
    is_primary = models.BooleanField(_("主要联系人"), default=False)

    class Meta:
        verbose_name = _("监护关系")
        verbose_name_plural = _("监护关系")
        constraints = [
            models.UniqueConstraint(fields=["guardian", "student"],
                                    name="guardian_student_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} – {self.student} ({self.get_relation_display()})"


class Role(models.TextChoices):
    GUARDIAN = "guardian", _("家长")
    HOMEROOM_TEACHER = "homeroom_teacher", _("班主任")
    TEACHER = "teacher", _("服务教师")
    PRINCIPAL = "principal", _("校长")
    OFFICE = "office", _("课后服务办公室")
    DUTY_LEADER = "duty_leader", _("值班领导")
    FINANCE = "finance", _("财务")
    DISTRICT = "district", _("教育局")


SCHOOL_ROLES = {Role.HOMEROOM_TEACHER, Role.TEACHER, Role.PRINCIPAL, Role.OFFICE, Role.FINANCE,
                Role.DUTY_LEADER}
# Roles that see the whole school's roster.
SCHOOL_WIDE_ROLES = {Role.PRINCIPAL, Role.OFFICE, Role.FINANCE}
# Who runs the school's after-school service: decides, publishes, is told what to act on.
MANAGER_ROLES = {Role.PRINCIPAL, Role.OFFICE}
# Who answers for the children on site (R8): the managers and the duty leader.
DUTY_ROLES = MANAGER_ROLES | {Role.DUTY_LEADER}
# The school's staff who look after children and read their attendance, incidents and who may
# collect them: not finance, who decides with fees, not with a child's health or family.
CARE_ROLES = SCHOOL_ROLES - {Role.FINANCE}


class Membership(models.Model):
    """A staff role held in one school, or a district role held in one district. Guardians have
    no membership: their scope is their children (GuardianStudent)."""

    user = models.ForeignKey("schools.User", on_delete=models.CASCADE,
                             related_name="memberships")
    role = models.CharField(_("角色"), max_length=20,
                            choices=[c for c in Role.choices if c[0] != Role.GUARDIAN])
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="memberships")
    district = models.ForeignKey(District, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="memberships")

    class Meta:
        verbose_name = _("角色任职")
        verbose_name_plural = _("角色任职")
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="district") & Q(district__isnull=False) & Q(school__isnull=True))
                | (~Q(role="district") & ~Q(role="guardian") & Q(school__isnull=False)
                   & Q(district__isnull=True)),
                name="membership_scope_matches_role"),
            models.UniqueConstraint(fields=["user", "role", "school"],
                                    condition=Q(school__isnull=False),
                                    name="membership_unique_school_role"),
            models.UniqueConstraint(fields=["user", "role", "district"],
                                    condition=Q(district__isnull=False),
                                    name="membership_unique_district_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} @ {self.school or self.district}"


class AuditEntry(models.Model):
    """Append-only trail of state changes and money movements: who, when, what, why.

    A database trigger (migration 0002) refuses UPDATE and DELETE on this table."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey("schools.User", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("操作人"))
    action = models.CharField(_("操作"), max_length=100)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True,
                                     blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"],
                                name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class RosterImport(models.Model):
    """An uploaded roster workbook, kept between the preview and the confirmation so the
    confirmation imports exactly the file that was previewed."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("待确认")
        IMPORTED = "imported", _("已导入")
        FAILED = "failed", _("未通过校验")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="roster_imports",
                               verbose_name=_("学校"))
    uploaded_by = models.ForeignKey("schools.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("上传人"))
    filename = models.CharField(_("文件名"), max_length=255)
    content = models.BinaryField(_("文件内容"))
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices,
                              default=Status.PREVIEWED)
    summary = models.JSONField(_("结果摘要"), default=dict, blank=True)

    class Meta:
        verbose_name = _("名册导入")
        verbose_name_plural = _("名册导入")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.school} {self.filename}"
