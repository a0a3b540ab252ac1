"""Queuing and delivering notifications through the outbox (notifications.Notification).

`notify` and `notify_many` write one row per channel under a unique dedupe key, inside the
caller's transaction (one INSERT that skips keys already held); delivery of e-mail and SMS
rows is published to the row's lane (a Celery queue per urgency) once the transaction commits.
Publishing fails fast: a broker that cannot be reached costs the request one short connection
attempt, and the rows wait for the rescan.

Delivery is claim, send, record. The claim (`sending`, attempt number, who, when) is committed
before anything leaves; the send carries the dedupe key to the channel as its idempotency key;
the result is recorded against that claim only. A worker killed between the send and the record
leaves a claim that the rescan hands out again after the urgency's timeout: the message is
resent with the same key (a deduplicating gateway drops it) and `crash_retries` says so.

What this guarantees: every message is delivered at least once unless it fails for good (and
then the school sees why); it reaches the person once wherever the channel honours the key
(in-app rows always, SMS gateways that deduplicate by client message id, mail clients that
collapse a repeated Message-ID); a possible duplicate elsewhere is recorded, never silent."""

import datetime
import logging
import os
import socket
from collections.abc import Iterable

from django.conf import settings
from django.db import router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from schools.db import Sql, insert_ignoring, insert_sql
from schools.models import User

from .channels import SENDERS, DeliveryError, NoAddress, PermanentFailure
from .models import Notification
from .selectors import RECIPIENT

logger = logging.getLogger(__name__)

Channel = Notification.Channel
Status = Notification.Status
Urgency = Notification.Urgency
MAX_ATTEMPTS = 6
DEFAULT_CHANNELS = (Channel.IN_APP, Channel.EMAIL)
# A transient failure waits base × 2^(attempt−1), at most an hour.
BACKOFF_BASE = {Urgency.ALERT: 15, Urgency.NOTICE: 60, Urgency.BULK: 120}
# Where an alert that cannot be sent by SMS goes instead (the in-app row is always there).
FALLBACK = {Channel.SMS: Channel.EMAIL}


def queue_for(urgency: str) -> str:
    return settings.NOTIFICATION_QUEUES[urgency]


def requeue_after(urgency: str) -> datetime.timedelta:
    """How long a published row may stay pending, or a claim stay open, before the rescan
    publishes it again: 60 s for alerts, a few minutes for the rest."""
    return datetime.timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER[urgency])


def _school_id(school) -> int | None:
    return getattr(school, "pk", school)


def _rows(*, recipient: User | None = None, recipient_id: int | None = None, purpose: str,
          dedupe_key: str, subject: str, body: str, payload: dict | None = None, url: str = "",
          school=None, urgency: str = Urgency.NOTICE, to_name: str = "", to_phone: str = "",
          channels: Iterable[str] = DEFAULT_CHANNELS) -> list[Notification]:
    """The recipient is `recipient`, or the account `recipient_id` (a sender that knows only
    whom to address need not load the user); neither, with `to_phone`: an SMS to someone
    without an account."""
    now = timezone.now()
    rows = []
    if recipient is not None:
        recipient_id = recipient.pk
    if recipient_id is None:
        channels = [Channel.SMS] if to_phone else []
    for channel in dict.fromkeys(channels):
        in_app = channel == Channel.IN_APP
        rows.append(Notification(
            recipient_id=recipient_id, to_name=to_name[:50], to_phone=to_phone[:20],
            school_id=_school_id(school), channel=channel,
            urgency=urgency, purpose=purpose, dedupe_key=f"{dedupe_key}#{channel}"[:200],
            subject=str(subject)[:200], body=str(body), url=url, payload=payload or {},
            # The in-app row is the message itself: it is delivered by being written.
            status=Status.SENT if in_app else Status.PENDING,
            sent_at=now if in_app else None, due_at=now,
            queued_at=None if in_app else now))
    return rows


def notify_many(items: Iterable[dict]) -> int:
    """Queue many notifications (each a dict of `notify`'s arguments) in a few queries.
    Keys already claimed are skipped. Returns the number of rows newly queued."""
    rows = [row for item in items for row in _rows(**item)]
    if not rows:
        return 0
    written = _insert_unclaimed(rows)
    # In-app rows are delivered by being written: only e-mail and SMS rows go to a lane.
    _publish_on_commit([(pk, urgency) for pk, urgency, status in written
                        if status == Status.PENDING])
    return len(written)


def notify_sql(*, recipients: Sql, dedupe_key: Sql, **item) -> Sql:
    """`notify_many`'s in-app rows as one part of a statement that writes what they tell of
    (schools.db.with_parts): one row per row of `recipients` (the statement's FROM, which gives
    a `user_id` column), under `dedupe_key`, an expression over it. In-app only: an e-mail or
    SMS row is published once its transaction commits, and the statement cannot say which it
    wrote. `item` is `notify`'s other arguments."""
    [row] = _rows(recipient_id=0, dedupe_key="", channels=[Channel.IN_APP], **item)
    return insert_sql(row, source=recipients, ignore_conflicts=True, computed={
        "recipient": Sql("user_id"),
        "dedupe_key": Sql(f"left({dedupe_key.text} || '#{Channel.IN_APP}', 200)",
                          dedupe_key.params)})


def _insert_unclaimed(rows: list[Notification]) -> list[tuple[int, str, str]]:
    """Insert the rows whose dedupe key nobody holds yet; (pk, urgency, status) of each row
    written, in pk order."""
    with transaction.atomic(using=router.db_for_write(Notification), savepoint=False):
        return sorted(insert_ignoring(Notification, rows, ["id", "urgency", "status"]))


def notify(**item) -> int:
    """Queue one notification on its channels (default: in-app and e-mail)."""
    return notify_many([item])


def _publish_on_commit(rows: list[tuple[int, str]]) -> None:
    if rows:
        transaction.on_commit(lambda: _publish(rows), robust=True)


def _publish(rows: list[tuple[int, str]]) -> int:
    """Hand each row's delivery task to its lane, alerts first. At the first broker error the
    rest are not tried (each try would wait for the connection again): they are marked as not
    queued, and the rescan publishes them. Returns how many were published."""
    from .tasks import deliver

    order = {Urgency.ALERT: 0, Urgency.NOTICE: 1, Urgency.BULK: 2}
    rows = sorted(rows, key=lambda row: order[row[1]])
    done = 0
    try:
        for pk, urgency in rows:
            deliver.apply_async((pk,), queue=queue_for(urgency))
            done += 1
    except (BrokerError, RedisError, OSError) as exc:
        logger.warning("broker unreachable, %d message(s) left for the rescan: %s",
                       len(rows) - done, exc)
        Notification.objects.filter(pk__in=[pk for pk, _u in rows[done:]],
                                    status=Status.PENDING).update(queued_at=None)
    return done


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _claim(notification_id: int) -> Notification | str:
    """Commit the claim on a row, or say why there is nothing to send."""
    with transaction.atomic():
        n = (Notification.objects.select_for_update(of=("self",)).select_related(*RECIPIENT)
             .filter(pk=notification_id).first())
        if n is None:
            return "gone"
        now = timezone.now()
        if n.status == Status.SENDING:
            if n.claimed_at > now - requeue_after(n.urgency):
                return Status.SENDING  # another worker holds a live claim
            # Its worker died between the send and the record: send again, same key, while
            # attempts remain (a send that kills its worker every time must end somewhere).
            if n.attempts >= MAX_ATTEMPTS:
                n.status = Status.FAILED
                n.last_error = _("每次发送时处理进程都意外中断，已停止重试。")
                n.save(update_fields=["status", "last_error"])
                _fall_back(n)
                return Status.FAILED
            n.crash_retries += 1
        elif n.status != Status.PENDING:
            return n.status
        elif n.due_at > now:
            return Status.PENDING  # backing off after a failure; the rescan brings it back
        n.status = Status.SENDING
        n.attempts += 1
        n.claimed_at = now
        n.claimed_by = _worker_name()
        n.save(update_fields=["status", "attempts", "crash_retries", "claimed_at",
                              "claimed_by"])
    return n


def notification_deliver(*, notification_id: int) -> str:
    """Claim, send, record. Returns the row's status afterwards ("gone" if deleted)."""
    n = _claim(notification_id)
    if isinstance(n, str):
        return n
    attempt = n.attempts
    error = ""
    try:
        SENDERS[n.channel](n)
    except NoAddress:
        outcome = Status.SKIPPED
    except PermanentFailure as exc:
        outcome, error = Status.FAILED, str(exc)
    except Exception as exc:  # a sender's bug or a gateway's surprise, as well
        # Counted as a transient failure: retried with back-off up to MAX_ATTEMPTS, then
        # failed, never left claimed for the rescan to hand out forever.
        if not isinstance(exc, DeliveryError):
            logger.exception("sending notification %s failed unexpectedly", n.pk)
        error = str(exc) or exc.__class__.__name__
        outcome = Status.FAILED if attempt >= MAX_ATTEMPTS else Status.PENDING
    else:
        outcome = Status.SENT
    now = timezone.now()
    fields = {"status": outcome}
    if error:
        fields["last_error"] = error[:2000]
    if outcome == Status.SENT:
        fields["sent_at"] = now
    elif outcome == Status.PENDING:
        wait = min(3600, BACKOFF_BASE[n.urgency] * 2 ** (attempt - 1))
        fields.update(due_at=now + datetime.timedelta(seconds=wait), queued_at=None)
    with transaction.atomic():
        # Only against our own claim: if the rescan handed the row to another worker in the
        # meantime, that worker records the result.
        recorded = (Notification.objects.filter(pk=n.pk, status=Status.SENDING,
                                                attempts=attempt).update(**fields))
        if recorded and outcome in (Status.FAILED, Status.SKIPPED):
            _fall_back(n)
    return outcome


def _fall_back(n: Notification) -> None:
    """An alert that cannot go by SMS goes by e-mail too (unless it already did)."""
    channel = FALLBACK.get(n.channel)
    if n.urgency != Urgency.ALERT or channel is None or n.recipient_id is None:
        return
    base = n.dedupe_key.rsplit("#", 1)[0]
    notify_many([dict(recipient=n.recipient, purpose=n.purpose, dedupe_key=base,
                      subject=n.subject, body=n.body, url=n.url, school=n.school_id,
                      urgency=n.urgency, channels=[channel],
                      payload={**n.payload, "fallback_for": n.pk})])


def _lane_is_empty(urgency: str) -> bool:
    """Whether the lane's queue in the broker holds no message: only then can a row published
    long ago be taken for lost (a restarted Redis, a task dropped) rather than still waiting
    its turn behind a backlog. A broker that cannot be asked counts as empty: publishing will
    then fail and leave the rows for the next rescan."""
    from celery import current_app
    from kombu.exceptions import ChannelError

    if current_app.conf.task_always_eager:
        return True
    try:
        with current_app.connection_for_write() as connection:
            declared = connection.default_channel.queue_declare(queue=queue_for(urgency),
                                                                passive=True)
            return declared.message_count == 0
    except ChannelError:  # the queue does not exist: nothing in it
        return True
    except (BrokerError, RedisError, OSError):
        return True


def notifications_requeue(*, limit: int = 5000) -> int:
    """The rescan (beat, every minute): publish again, alerts first, every row whose task is not
    known to be in the broker — never published; claimed longer ago than its urgency's timeout
    (a dead worker); or published longer ago than that while its lane's queue is empty (a
    restarted Redis, a lost task). A long backlog is not published twice: its rows wait in the
    queue, which is not empty."""
    now = timezone.now()
    rows = []
    for urgency in (Urgency.ALERT, Urgency.NOTICE, Urgency.BULK):
        stale = now - requeue_after(urgency)
        lost = Q(queued_at__isnull=True)
        if _lane_is_empty(urgency):
            lost |= Q(queued_at__lt=stale)
        ids = list(Notification.objects.filter(urgency=urgency).filter(
            Q(status=Status.PENDING, due_at__lte=now) & lost
            | Q(status=Status.SENDING, claimed_at__lt=stale))
            .order_by("created_at").values_list("pk", flat=True)[:limit])
        Notification.objects.filter(pk__in=ids).update(queued_at=now)
        rows += [(pk, urgency) for pk in ids]
    _publish_on_commit(rows)  # at once when no transaction is open
    return len(rows)


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


def skip_reason(n: Notification) -> str:
    """Why a row was not delivered, in words for the school."""
    if n.status == Status.SKIPPED:
        return _("未登记联系方式")
    return n.last_error

