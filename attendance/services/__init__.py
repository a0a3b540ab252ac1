"""The attendance stage's writes, by topic; callers import from here."""

from .days import (
    day_close,
    day_close_reminders,
    late_pickups_scan,
    service_record_write,
)
from .handoffs import BEFORE_LESSONS, handoff_dispute, handoff_json, handoff_release
from .pickup import (
    delegation_give,
    pickup_adult_add,
    pickup_adult_revoke,
    restricted_adult_record,
    walk_home_sign,
)
from .records import archive_ended_terms, class_weeks_archive, teacher_month_publish
from .rollcall import (
    incident_acknowledge,
    incident_json,
    incident_report,
    incident_resolve,
    roll_call,
)
from .sessions import on_classes_created, session_set_teacher, sessions_ensure, sessions_for_classes

__all__ = [
    "BEFORE_LESSONS", "archive_ended_terms", "class_weeks_archive", "teacher_month_publish",
    "day_close", "day_close_reminders", "delegation_give", "handoff_dispute", "handoff_json",
    "handoff_release", "incident_acknowledge", "incident_json", "incident_report",
    "incident_resolve", "late_pickups_scan", "on_classes_created", "pickup_adult_add",
    "pickup_adult_revoke", "restricted_adult_record", "roll_call", "service_record_write",
    "session_set_teacher", "sessions_ensure", "sessions_for_classes", "walk_home_sign",
]
