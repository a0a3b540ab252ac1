from celery import shared_task

from . import reminders


@shared_task
def send_choice_deadline_reminders() -> int:
    return reminders.choice_deadline_tomorrow()
