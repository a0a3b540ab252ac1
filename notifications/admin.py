from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "channel", "purpose", "status", "attempts",
                    "sent_at"]
    list_filter = ["channel", "status", "purpose"]
    search_fields = ["recipient__username", "dedupe_key", "subject"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
