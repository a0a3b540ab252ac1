from celery import shared_task

from . import reminders, services


@shared_task
def send_enrollment_reminders() -> dict:
    return reminders.run_all()


@shared_task
def end_due_enrolments() -> int:
    return services.enrolments_end_due()
