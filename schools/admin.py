from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import (
    AuditEntry,
    District,
    Grade,
    Guardian,
    GuardianStudent,
    Homeroom,
    Membership,
    School,
    ServiceSlot,
    Staff,
    Student,
    Term,
    TermCalendarDay,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["school", "district"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("课后服务"), {"fields": ["display_name"]}),)
    list_display = ["username", "display_name", "email", "is_staff", "is_active"]
    search_fields = ["username", "display_name", "email"]
    inlines = [MembershipInline]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["name", "code"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "district", "stage", "temp_class_cap", "fee_mode"]
    list_filter = ["district", "stage", "fee_mode"]
    search_fields = ["name", "code"]


class CalendarInline(admin.TabularInline):
    model = TermCalendarDay
    extra = 0


class SlotInline(admin.TabularInline):
    model = ServiceSlot
    extra = 0


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["school", "name", "start", "end"]
    list_filter = ["school"]
    inlines = [SlotInline, CalendarInline]


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    list_display = ["school", "number", "name"]
    list_filter = ["school"]


@admin.register(Homeroom)
class HomeroomAdmin(admin.ModelAdmin):
    list_display = ["school", "grade", "name", "head_teacher"]
    list_filter = ["school"]
    list_select_related = ["school", "grade", "head_teacher"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["name", "school", "kind", "provider_name", "active"]
    list_filter = ["school", "kind", "active"]
    search_fields = ["name", "phone"]


class GuardianLinkInline(admin.TabularInline):
    model = GuardianStudent
    extra = 0
    autocomplete_fields = ["guardian", "student"]


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ["student_no", "name", "school", "grade", "homeroom", "boarding", "bus_rider",
                    "active"]
    list_filter = ["school", "grade__number", "boarding", "bus_rider", "active"]
    search_fields = ["name", "student_no"]
    list_select_related = ["school", "grade", "homeroom__grade"]
    inlines = [GuardianLinkInline]


@admin.register(Guardian)
class GuardianAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "user"]
    search_fields = ["name", "phone"]
    inlines = [GuardianLinkInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "school", "district"]
    list_filter = ["role", "school", "district"]
    search_fields = ["user__username", "user__display_name"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the table refuses UPDATE and DELETE at the database."""

    list_display = ["at", "actor", "action", "object_repr", "school"]
    list_filter = ["action", "school"]
    search_fields = ["action", "object_repr", "actor__username"]
    readonly_fields = ["at", "actor", "action", "content_type", "object_id", "object_repr",
                       "school", "data"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
