import datetime
import os
import threading
import time

import pytest
from django.core import mail
from django.utils import timezone

from notifications.channels import DeliveryError, LocmemSMSBackend
from notifications.models import Notification
from notifications.services import (
    MAX_ATTEMPTS,
    notification_deliver,
    notifications_redeliver_stale,
    notify,
    notify_many,
)
from tests import factories as f
from tests.conftest import require_service

Status = Notification.Status


def _notice(user, key="test.notice:1", **extra):
    return dict(recipient=user, purpose="test.notice", dedupe_key=key, subject="报名结果",
                body="张小明 的课后服务报名：已批准。", **extra)


@pytest.fixture(autouse=True)
def _clean_outboxes():
    mail.outbox = []
    LocmemSMSBackend.outbox.clear()


@pytest.mark.django_db
def test_it_writes_the_inbox_row_and_mails_after_commit(django_capture_on_commit_callbacks):
    user = f.UserFactory(email="zhang@example.cn")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notify(**_notice(user)) == 2
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    rows = {n.channel: n for n in Notification.objects.filter(recipient=user)}
    assert rows["in_app"].status == Status.SENT and rows["in_app"].read_at is None
    assert rows["email"].status == Status.SENT and rows["email"].attempts == 1
    assert [m.to for m in mail.outbox] == [["zhang@example.cn"]]
    assert mail.outbox[0].subject == "报名结果"


@pytest.mark.django_db
def test_the_same_key_twice_is_queued_and_delivered_once(django_capture_on_commit_callbacks):
    user = f.UserFactory(email="zhang@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(**_notice(user)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(**_notice(user)) == 0
    assert Notification.objects.filter(recipient=user).count() == 2
    assert len(mail.outbox) == 1
    # A duplicate task for a row already sent sends nothing.
    row = Notification.objects.get(recipient=user, channel="email")
    assert notification_deliver(notification_id=row.pk) == Status.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_notify_many_skips_claimed_keys_and_counts_new_rows(django_capture_on_commit_callbacks):
    users = [f.UserFactory() for _ in range(3)]
    items = [_notice(u, key=f"test.digest:{u.pk}:2026-11-23", channels=["in_app"])
             for u in users]
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_many(items[:2]) == 2
        assert notify_many(items) == 1
    assert Notification.objects.count() == 3


@pytest.mark.django_db
def test_sms_goes_to_the_guardians_phone(django_capture_on_commit_callbacks):
    guardian = f.GuardianFactory(phone="13912345678")
    with django_capture_on_commit_callbacks(execute=True):
        notify(**_notice(guardian.user, channels=["sms"]))
    assert LocmemSMSBackend.outbox == [
        ("13912345678", "【课后服务】张小明 的课后服务报名：已批准。")]


@pytest.mark.django_db
def test_a_recipient_without_address_is_skipped_not_retried(django_capture_on_commit_callbacks):
    user = f.UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        notify(**_notice(user))
    row = Notification.objects.get(recipient=user, channel="email")
    assert row.status == Status.SKIPPED and row.attempts == 1


class FlakySMS:
    """Fails the first two sends (the gateway is down), then works."""

    calls = 0

    def send(self, phone, text):
        FlakySMS.calls += 1
        if FlakySMS.calls <= 2:
            raise ConnectionError("gateway unreachable")
        LocmemSMSBackend.outbox.append((phone, text))


@pytest.mark.django_db
def test_a_transient_failure_is_retried_until_sent(settings,
                                                   django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "tests.notifications.test_outbox.FlakySMS"
    FlakySMS.calls = 0
    guardian = f.GuardianFactory()
    with django_capture_on_commit_callbacks(execute=True):
        notify(**_notice(guardian.user, channels=["sms"]))  # the first try fails
    row = Notification.objects.get(recipient=guardian.user)
    assert row.status == Status.PENDING and row.attempts == 1
    with pytest.raises(DeliveryError):
        notification_deliver(notification_id=row.pk)
    assert notification_deliver(notification_id=row.pk) == Status.SENT
    row.refresh_from_db()
    assert row.attempts == 3 and row.last_error == "gateway unreachable"
    assert len(LocmemSMSBackend.outbox) == 1


@pytest.mark.django_db
def test_it_gives_up_after_the_last_attempt(settings):
    settings.SMS_BACKEND = "tests.notifications.test_outbox.FlakySMS"
    FlakySMS.calls = -100
    guardian = f.GuardianFactory()
    row = Notification.objects.create(recipient=guardian.user, channel="sms", purpose="t",
                                      dedupe_key="t#sms", subject="s", body="b")
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(DeliveryError):
            notification_deliver(notification_id=row.pk)
    assert notification_deliver(notification_id=row.pk) == Status.FAILED
    assert notification_deliver(notification_id=row.pk) == Status.FAILED
    assert FlakySMS.calls == -100 + MAX_ATTEMPTS


@pytest.mark.django_db
def test_stale_pending_rows_are_enqueued_again(django_capture_on_commit_callbacks):
    user = f.UserFactory(email="li@example.cn")
    row = Notification.objects.create(
        recipient=user, channel="email", purpose="test.notice", dedupe_key="lost#email",
        subject="s", body="b")
    Notification.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_redeliver_stale(older_than=datetime.timedelta(minutes=10)) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert len(mail.outbox) == 1


def _redis_available(url: str) -> bool:
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _wait_for(condition, timeout: float = 30.0) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_same_key_twice_delivers_once_on_a_real_worker():
    """The whole path on real parts: rows committed to PostgreSQL, tasks through Redis, a
    Celery worker delivering. The key is queued twice and its task sent three times: once on
    commit, twice by hand, as a broker redelivery or a rerun would."""
    url = os.environ.get("REDIS_URL", "")
    require_service(_redis_available(url), "Redis is not available (REDIS_URL unset)")
    import redis
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from config.celery import app
    from notifications.tasks import deliver

    broker = redis.Redis.from_url(url)
    queue = app.conf.task_default_queue  # this run's own (config/settings/test.py)
    runs = []

    def finished(sender=None, args=None, retval=None, **_kwargs):
        if sender is not None and sender.name == deliver.name:
            runs.append((tuple(args), retval))

    user = f.UserFactory(email="wang@example.cn")
    threads_before = set(threading.enumerate())
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            assert notify(**_notice(user, key="test.worker:1")) == 2
            assert notify(**_notice(user, key="test.worker:1")) == 0
            row = Notification.objects.get(recipient=user, channel="email")
            deliver.delay(row.pk)
            deliver.delay(row.pk)
            # Every copy consumed: three runs finished and nothing left in the queue.
            consumed = _wait_for(lambda: len(runs) >= 3 and broker.llen(queue) == 0)
            assert consumed, f"the worker finished {len(runs)} of 3 tasks in 30 s; " \
                             f"{broker.llen(queue)} message(s) still queued"
    finally:
        task_postrun.disconnect(finished)
        app.conf.task_always_eager = previous
    # The first run sent it; the two copies found the row sent and sent nothing.
    assert runs == [((row.pk,), Status.SENT)] * 3
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.attempts == 1
    assert [m.to for m in mail.outbox] == [["wang@example.cn"]]
    assert Notification.objects.filter(recipient=user).count() == 2
    # The worker stopped with the block: no thread of it lives on to take later messages.
    assert [t.name for t in threading.enumerate() if t not in threads_before] == []
