"""Activities, weekly menus, ranked choices, allocation runs and temporary classes (R5–R7)."""

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from schools.models import School, ServiceSlot, Staff, Student, Term

# The categories anyone may pick (R6), kept in the database too.
CATEGORIES = ["homework", "reading", "sports", "arts", "science", "labour", "club"]


class Activity(models.Model):
    class Category(models.TextChoices):
        # R6: "1" is supervised homework and reading; "X" the interest groups. Collective
        # tutoring and new lessons are not a category: no one can pick them.
        HOMEWORK = "homework", _("作业辅导")
        READING = "reading", _("阅读")
        SPORTS = "sports", _("体育")
        ARTS = "arts", _("艺术")
        SCIENCE = "science", _("科学")
        LABOUR = "labour", _("劳动")
        CLUB = "club", _("社团")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="activities",
                               verbose_name=_("学校"))
    name = models.CharField(_("名称"), max_length=60)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    description = models.TextField(_("简介"), blank=True)
    teacher = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="activities", verbose_name=_("任课教师"))
    room = models.CharField(_("场地"), max_length=60, blank=True)
    grades = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("适合年级"))
    capacity = models.PositiveSmallIntegerField(_("人数上限"))
    active = models.BooleanField(_("开设中"), default=True)

    class Meta:
        verbose_name = _("活动项目")
        verbose_name_plural = _("活动项目")
        ordering = ["school", "category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"],
                                    name="activity_unique_name_per_school"),
            models.CheckConstraint(condition=Q(category__in=CATEGORIES),
                                   name="activity_category_allowed"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activity_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Menu(models.Model):
    """One school's menu for one week (`week` is its Monday)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        ALLOCATED = "allocated", _("已分班")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="menus",
                               verbose_name=_("学校"))
    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="menus",
                             verbose_name=_("学期"))
    week = models.DateField(_("周一日期"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices,
                              default=Status.DRAFT)
    choice_deadline = models.DateTimeField(_("选课截止"))
    version = models.PositiveSmallIntegerField(_("发布版本"), default=0)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    # What the principal acknowledged at the last publication (R5 "5+2", R6 grades 1–2).
    acknowledged_warnings = models.JSONField(_("已确认的提示"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("每周菜单")
        verbose_name_plural = _("每周菜单")
        ordering = ["school", "-week"]
        constraints = [
            models.UniqueConstraint(fields=["school", "week"], name="menu_one_per_school_week"),
            models.CheckConstraint(condition=Q(week__iso_week_day=1), name="menu_week_is_monday"),
        ]

    def __str__(self) -> str:
        return _("%(school)s %(week)s 周菜单") % {"school": self.school, "week": self.week}

    def get_absolute_url(self) -> str:
        return reverse("scheduling:menu", args=[self.pk])

    def day_of(self, weekday: int) -> datetime.date:
        return self.week + datetime.timedelta(days=weekday - 1)

    @property
    def week_end(self) -> datetime.date:
        return self.week + datetime.timedelta(days=6)


class MenuItem(models.Model):
    """An activity offered in one slot of the week."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="items")
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="menu_items",
                                 verbose_name=_("活动"))
    slot = models.ForeignKey(ServiceSlot, on_delete=models.PROTECT, related_name="menu_items",
                             verbose_name=_("时段"))
    teacher = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="menu_items", verbose_name=_("任课教师"))
    room = models.CharField(_("场地"), max_length=60, blank=True)
    grades = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("开放年级"))
    capacity = models.PositiveSmallIntegerField(_("人数上限"))
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))

    class Meta:
        verbose_name = _("菜单项目")
        verbose_name_plural = _("菜单项目")
        ordering = ["menu", "slot__weekday", "slot__start", "activity__name"]
        constraints = [
            models.UniqueConstraint(fields=["menu", "activity", "slot"],
                                    name="menuitem_activity_once_per_slot"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")),
                                   name="menuitem_end_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="menuitem_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.slot} {self.activity}"


class Choice(models.Model):
    """A guardian's ranking for one child and slot: one row per rank (菜单双选)."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="choices")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="menu_choices")
    slot = models.ForeignKey(ServiceSlot, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(MenuItem, on_delete=models.CASCADE, related_name="choices")
    rank = models.PositiveSmallIntegerField(_("志愿"))
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    chosen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("选课志愿")
        verbose_name_plural = _("选课志愿")
        ordering = ["menu", "student", "slot", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["menu", "student", "slot", "rank"],
                                    name="choice_one_per_rank"),
            models.UniqueConstraint(fields=["menu", "student", "item"],
                                    name="choice_item_once"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="choice_rank_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.slot} #{self.rank} {self.item.activity}"


class AllocationRun(models.Model):
    """One allocation of a menu: its seed (so it can be reproduced) and its figures."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="runs")
    seed = models.CharField(_("随机种子"), max_length=64)
    committed = models.BooleanField(_("已确认"), default=False)
    stats = models.JSONField(_("结果"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("分班记录")
        verbose_name_plural = _("分班记录")
        ordering = ["menu", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["menu"], condition=Q(committed=True),
                                    name="allocationrun_one_committed_per_menu"),
        ]

    def __str__(self) -> str:
        return f"{self.menu} #{self.pk}"


class TemporaryClass(models.Model):
    """临时班 (R7): children of one slot, at most the school's cap, with a temporary head
    teacher who takes them to their room and hands them over at pickup."""

    class Kind(models.TextChoices):
        ACTIVITY = "activity", _("活动班")
        STUDY_HALL = "study_hall", _("托管自习班")

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="classes")
    slot = models.ForeignKey(ServiceSlot, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("时段"))
    item = models.ForeignKey(MenuItem, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="classes")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("班名"), max_length=80)
    capacity = models.PositiveSmallIntegerField(_("容量"))
    head_teacher = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="temporary_classes",
                                     verbose_name=_("临时班主任"))
    room = models.CharField(_("教室/场地"), max_length=60, blank=True)
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))
    # A study hall serves one grade: where a child who joins after the allocation is seated.
    grade = models.PositiveSmallIntegerField(_("年级"), null=True, blank=True)

    class Meta:
        verbose_name = _("临时班")
        verbose_name_plural = _("临时班")
        ordering = ["menu", "slot__weekday", "slot__start", "kind", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1) & Q(capacity__lte=45),
                                   name="temporaryclass_capacity_within_cap"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("scheduling:class", args=[self.pk])


class Placement(models.Model):
    """A child's seat in a temporary class; one per child and slot of a week."""

    class Source(models.TextChoices):
        ALLOCATION = "allocation", _("分班")
        MANUAL = "manual", _("手动调整")
        JOINED = "joined", _("分班后加入")

    temporary_class = models.ForeignKey(TemporaryClass, on_delete=models.CASCADE,
                                        related_name="placements")
    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="placements")
    slot = models.ForeignKey(ServiceSlot, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="placements")
    # The rank the child got (1 = first choice); empty for a study hall or a manual seat.
    rank = models.PositiveSmallIntegerField(_("志愿"), null=True, blank=True)
    priority = models.BooleanField(_("优先保障"), default=False)
    # Whether the child had ranked choices for the slot (a study hall seat then means none of
    # them could be met: it counts against the child's luck in later weeks' tie-breaks).
    had_choices = models.BooleanField(_("填报了志愿"), default=False)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices,
                              default=Source.ALLOCATION)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("分班结果")
        verbose_name_plural = _("分班结果")
        ordering = ["temporary_class", "student__grade__number", "student__homeroom__name",
                    "student__student_no"]
        constraints = [
            models.UniqueConstraint(fields=["menu", "slot", "student"],
                                    name="placement_one_per_student_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.student} → {self.temporary_class}"
