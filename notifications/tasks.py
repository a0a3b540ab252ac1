from celery import shared_task

from .services import notification_deliver, notifications_requeue


# Acknowledged late and rejected (so requeued) if the worker dies: the broker redelivers what a
# killed worker held; the claim makes the redelivery harmless and the rescan covers a lost one.
# No Celery retry: a transient failure sets the row's due time and the rescan brings it back,
# so nothing waits in a worker's memory for a countdown.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver(notification_id: int) -> str:
    return notification_deliver(notification_id=notification_id)


@shared_task(ignore_result=True)
def requeue() -> int:
    return notifications_requeue()
