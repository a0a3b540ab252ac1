"""Queuing and delivering notifications through the outbox (notifications.Notification).

`notify` and `notify_many` claim one row per channel under a unique dedupe key, inside the
caller's transaction; delivery of e-mail and SMS rows is enqueued on commit. Delivery locks the
row, so a duplicate task (a broker redelivery, a rerun) finds it sent and sends nothing."""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from schools.models import User

from .channels import SENDERS, DeliveryError, NoAddress
from .models import Notification

Channel = Notification.Channel
Status = Notification.Status
MAX_ATTEMPTS = 6
DEFAULT_CHANNELS = (Channel.IN_APP, Channel.EMAIL)


def _rows(*, recipient: User, purpose: str, dedupe_key: str, subject: str, body: str,
          payload: dict | None = None, url: str = "",
          channels: Iterable[str] = DEFAULT_CHANNELS) -> list[Notification]:
    now = timezone.now()
    rows = []
    for channel in dict.fromkeys(channels):
        in_app = channel == Channel.IN_APP
        rows.append(Notification(
            recipient=recipient, channel=channel, purpose=purpose,
            dedupe_key=f"{dedupe_key}#{channel}"[:200], subject=str(subject)[:200],
            body=str(body), url=url, payload=payload or {},
            # The in-app row is the message itself: it is delivered by being written.
            status=Status.SENT if in_app else Status.PENDING,
            sent_at=now if in_app else None))
    return rows


def notify_many(items: Iterable[dict]) -> int:
    """Queue many notifications (each a dict of `notify`'s arguments) in a few queries.
    Keys already claimed are skipped. Returns the number of rows newly queued."""
    rows = [row for item in items for row in _rows(**item)]
    if not rows:
        return 0
    keys = [r.dedupe_key for r in rows]
    before = set(Notification.objects.filter(dedupe_key__in=keys)
                 .values_list("dedupe_key", flat=True))
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    new_keys = [k for k in keys if k not in before]
    pending = list(Notification.objects
                   .filter(dedupe_key__in=new_keys, status=Status.PENDING)
                   .values_list("pk", flat=True))
    _enqueue_on_commit(pending)
    return len(new_keys)


def notify(**item) -> int:
    """Queue one notification on its channels (default: in-app and e-mail)."""
    return notify_many([item])


def _enqueue_on_commit(ids: list[int]) -> None:
    if not ids:
        return

    def enqueue():
        from .tasks import deliver

        for pk in ids:
            deliver.delay(pk)

    # robust: a broker that is down must not fail the caller's request; the rows stay
    # pending and the stale scan enqueues them again.
    transaction.on_commit(enqueue, robust=True)


def notification_deliver(*, notification_id: int) -> str:
    """Send one pending row. The row lock makes a concurrent duplicate wait, then find it
    sent. Raises DeliveryError on a transient failure (the task retries), after recording the
    attempt."""
    failure = None
    with transaction.atomic():
        n = (Notification.objects.select_for_update().select_related("recipient")
             .filter(pk=notification_id).first())
        if n is None or n.status != Status.PENDING:
            return "gone" if n is None else n.status
        n.attempts += 1
        try:
            SENDERS[n.channel](n)
        except NoAddress:
            n.status = Status.SKIPPED
        except DeliveryError as exc:
            failure = exc
            n.last_error = str(exc)[:2000]
            if n.attempts >= MAX_ATTEMPTS:
                n.status = Status.FAILED
        else:
            n.status = Status.SENT
            n.sent_at = timezone.now()
        n.save(update_fields=["status", "attempts", "last_error", "sent_at"])
    if failure is not None and n.status == Status.PENDING:
        raise failure
    return n.status


def notifications_redeliver_stale(*, older_than: datetime.timedelta) -> int:
    """Re-enqueue pending rows whose task was lost (Redis or a worker restarted)."""
    cutoff = timezone.now() - older_than
    ids = list(Notification.objects
               .filter(status=Status.PENDING, created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS)
               .values_list("pk", flat=True)[:5000])
    _enqueue_on_commit(ids)
    return len(ids)


def inbox_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, channel=Channel.IN_APP)


def unread_count(user: User) -> int:
    return inbox_of(user).filter(read_at__isnull=True).count()


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    qs = inbox_of(user).filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
