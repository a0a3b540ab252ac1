import datetime

from celery import shared_task

from .channels import DeliveryError
from .models import Notification
from .services import notification_deliver, notifications_redeliver_stale


@shared_task(bind=True, max_retries=5, acks_late=True)
def deliver(self, notification_id: int) -> str:
    try:
        return notification_deliver(notification_id=notification_id)
    except DeliveryError as exc:
        if self.request.is_eager:
            # No broker (the demo): the row stays pending for the stale scan, and the request
            # that queued it is not failed by a mail server being down.
            return Notification.Status.PENDING
        # 30 s, 60 s, 120 s, ... capped at an hour.
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2 ** self.request.retries)) from exc


@shared_task
def redeliver_stale() -> int:
    return notifications_redeliver_stale(older_than=datetime.timedelta(minutes=10))
