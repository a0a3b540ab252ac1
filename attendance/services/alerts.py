"""The attendance stage's messages: every one goes through the outbox, in the alert lane
(notifications.Notification.Urgency.ALERT), under a key that makes it once per child, session
and reason whatever retries."""

from django.urls import reverse

from notifications.services import notify_many, notify_sql
from schools.db import Sql
from schools.models import Student
from schools.selectors import duty_managers, guardian_user_ids_of, guardian_users_sql

from ..models import ClassSession

ALERT = "alert"
BY_PHONE = ("in_app", "sms")


def child_url(student_id: int) -> str:
    return reverse("attendance:child", args=[student_id])


def day_url(session: ClassSession) -> str:
    return reverse("attendance:day", args=[session.date.isoformat()])


def guardians(*, students: list[Student], session: ClassSession, purpose: str, key: str,
              subject, body, channels=BY_PHONE) -> int:
    """Each child's guardians; `subject` and `body` are functions of the child."""
    users = guardian_user_ids_of([s.pk for s in students])
    return notify_many([
        dict(recipient_id=user_id, purpose=purpose, school=session.school_id, urgency=ALERT,
             dedupe_key=f"{purpose}:{key}:{child.pk}:{user_id}", subject=subject(child),
             body=body(child), url=child_url(child.pk), channels=channels)
        for child in students for user_id in users.get(child.pk, [])])


def guardians_sql(*, student: Student, session: ClassSession, purpose: str, key: Sql,
                  source: str, subject: str, body: str) -> Sql:
    """`guardians`' in-app notices about one child as part of a statement that writes what they
    tell of (schools.db.with_parts): one per guardian and row of the part `source`, the key an
    expression over it (the new row's id)."""
    guardians = guardian_users_sql(student.pk)
    return notify_sql(
        recipients=Sql(f"{source}, {guardians.text}", guardians.params),
        dedupe_key=Sql(f"%s || {key.text} || %s || user_id",
                       (f"{purpose}:", *key.params, f":{student.pk}:")),
        purpose=purpose, school=session.school_id, urgency=ALERT, subject=subject, body=body,
        url=child_url(student.pk))


def managers(*, session: ClassSession, purpose: str, key: str, subject: str, body: str) -> int:
    """The school's principals, offices and duty leaders, on the day's page."""
    users = {m.user for m in duty_managers([session.school_id])}
    return notify_many([
        dict(recipient=user, purpose=purpose, school=session.school_id, urgency=ALERT,
             dedupe_key=f"{purpose}:{key}:{user.pk}", subject=subject, body=body,
             url=day_url(session), channels=BY_PHONE)
        for user in users])
