from celery import shared_task
from django.utils import timezone

from . import services


@shared_task
def ensure_sessions() -> int:
    return services.sessions_ensure(today=timezone.localdate())


@shared_task
def scan_late_pickups() -> int:
    """Every minute: late pickups escalated, open days reminded. Each message claims a unique
    outbox key, so a retry or an overlapping run sends nothing twice."""
    return services.late_pickups_scan() + services.day_close_reminders()


@shared_task
def archive_ended_terms() -> int:
    """Daily: the weekly class records of every term that has ended, archived once (R9)."""
    return services.archive_ended_terms(timezone.localdate())
