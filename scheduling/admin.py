"""Read-only views for the `admin` account: writes go through the pages and services, which
check the policy and audit every change."""

from django.contrib import admin

from .models import Activity, AllocationRun, Menu, MenuItem, TemporaryClass


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnly):
    list_display = ["name", "school", "category", "teacher", "room", "capacity", "active"]
    list_filter = ["school", "category", "active"]
    search_fields = ["name"]


class MenuItemInline(admin.TabularInline):
    model = MenuItem
    extra = 0
    fields = ["slot", "activity", "teacher", "room", "grades", "capacity", "start", "end"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Menu)
class MenuAdmin(ReadOnly):
    list_display = ["week", "school", "status", "version", "choice_deadline", "published_at"]
    list_filter = ["school", "status"]
    date_hierarchy = "week"
    inlines = [MenuItemInline]


@admin.register(AllocationRun)
class AllocationRunAdmin(ReadOnly):
    list_display = ["created_at", "menu", "seed", "committed", "created_by"]
    list_filter = ["committed"]


@admin.register(TemporaryClass)
class TemporaryClassAdmin(ReadOnly):
    list_display = ["name", "menu", "kind", "head_teacher", "room", "capacity"]
    list_filter = ["kind", "menu__school"]
    search_fields = ["name", "room"]
