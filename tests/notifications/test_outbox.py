import datetime
import os
import threading
import time

import pytest
from django.core import mail
from django.utils import timezone

from notifications import services
from notifications.channels import SMS, LocmemSMSBackend
from notifications.models import Notification
from notifications.services import (
    MAX_ATTEMPTS,
    notification_deliver,
    notifications_requeue,
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
def test_only_the_rows_a_call_wrote_are_published_and_in_app_rows_never(
        django_capture_on_commit_callbacks, django_assert_num_queries, monkeypatch):
    """One INSERT that skips claimed keys says which rows are new: the in-app row is delivered
    by being written, so an in-app batch leaves nothing for the broker."""
    published = []
    monkeypatch.setattr(services, "_publish", lambda rows: published.extend(rows))
    users = [f.UserFactory(email=f"u{i}@example.cn") for i in range(3)]
    keys = {u.pk: f"test.digest:{u.pk}:2026-11-23" for u in users}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with django_assert_num_queries(1):
            assert notify_many([_notice(u, key=keys[u.pk], channels=["in_app"])
                                for u in users[:2]]) == 2
    assert callbacks == [] and published == []
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_many([_notice(u, key=keys[u.pk], urgency="alert") for u in users]) == 4
    email = Notification.objects.filter(channel="email").order_by("pk")
    assert published == [(n.pk, "alert") for n in email] and len(published) == 3
    assert Notification.objects.filter(channel="in_app").count() == 3


@pytest.mark.django_db
def test_sms_goes_to_the_guardians_phone(django_capture_on_commit_callbacks):
    guardian = f.GuardianFactory(phone="13912345678")
    with django_capture_on_commit_callbacks(execute=True):
        notify(**_notice(guardian.user, channels=["sms"]))
    assert LocmemSMSBackend.outbox == [
        SMS("13912345678", "【课后服务】张小明 的课后服务报名：已批准。", "test.notice:1#sms")]


@pytest.mark.django_db
def test_an_sms_reaches_a_person_without_an_account(django_capture_on_commit_callbacks):
    """An adult a guardian authorised to collect a child has a phone, not an account."""
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(**_notice(None, to_name="李芳", to_phone="13900001111",
                                channels=["in_app", "sms", "email"])) == 1
    row = Notification.objects.get(dedupe_key="test.notice:1#sms")
    assert row.recipient is None and row.status == Status.SENT
    assert str(row) == "短信 → 李芳: 报名结果"
    assert [(m.phone, m.key) for m in LocmemSMSBackend.outbox] == [
        ("13900001111", "test.notice:1#sms")]


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

    def send(self, phone, text, *, key):
        FlakySMS.calls += 1
        if FlakySMS.calls <= 2:
            raise ConnectionError("gateway unreachable")
        LocmemSMSBackend.outbox.append(SMS(phone, text, key))


def _due_now(row):
    """Skip the backoff: the row is due again."""
    Notification.objects.filter(pk=row.pk).update(due_at=timezone.now())


@pytest.mark.django_db
def test_a_transient_failure_backs_off_and_the_rescan_retries_it(
        settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "tests.notifications.test_outbox.FlakySMS"
    FlakySMS.calls = 0
    guardian = f.GuardianFactory()
    with django_capture_on_commit_callbacks(execute=True):
        notify(**_notice(guardian.user, channels=["sms"]))  # the first try fails
    row = Notification.objects.get(recipient=guardian.user)
    assert row.status == Status.PENDING and row.attempts == 1
    # It waits out its backoff (60 s for a notice), not in the broker: nothing is queued.
    assert row.queued_at is None
    assert 55 <= (row.due_at - timezone.now()).total_seconds() <= 60
    # A duplicate task before it is due sends nothing and claims nothing.
    assert notification_deliver(notification_id=row.pk) == Status.PENDING
    assert FlakySMS.calls == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue() == 0  # not due yet
    _due_now(row)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue() == 1  # fails again: backoff doubles
    row.refresh_from_db()
    assert row.attempts == 2
    assert 115 <= (row.due_at - timezone.now()).total_seconds() <= 120
    _due_now(row)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue() == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 3
    assert row.last_error == "gateway unreachable" and row.crash_retries == 0
    assert len(LocmemSMSBackend.outbox) == 1


@pytest.mark.django_db
def test_it_gives_up_after_the_last_attempt(settings):
    settings.SMS_BACKEND = "tests.notifications.test_outbox.FlakySMS"
    FlakySMS.calls = -100
    guardian = f.GuardianFactory()
    row = Notification.objects.create(recipient=guardian.user, channel="sms", purpose="t",
                                      dedupe_key="t#sms", subject="s", body="b")
    for _ in range(MAX_ATTEMPTS - 1):
        assert notification_deliver(notification_id=row.pk) == Status.PENDING
        _due_now(row)
    assert notification_deliver(notification_id=row.pk) == Status.FAILED
    assert notification_deliver(notification_id=row.pk) == Status.FAILED
    assert FlakySMS.calls == -100 + MAX_ATTEMPTS


def _row(user, key, *, urgency="notice", channel="email", **fields):
    row = Notification.objects.create(recipient=user, channel=channel, purpose="test.notice",
                                      dedupe_key=f"{key}#{channel}", urgency=urgency,
                                      subject="s", body="b")
    Notification.objects.filter(pk=row.pk).update(**fields)
    return row


@pytest.mark.django_db
def test_the_rescan_takes_what_is_not_known_to_be_in_the_broker(
        django_capture_on_commit_callbacks):
    """Alerts after 60 s, notices after 3 minutes, bulk after 10; rows never published (the
    broker was down) at once; open claims of dead workers after the same timeouts."""
    user = f.UserFactory(email="li@example.cn")
    now = timezone.now()
    ago = lambda s: now - datetime.timedelta(seconds=s)  # noqa: E731
    taken = [
        _row(user, "alert-61", urgency="alert", queued_at=ago(61)),
        _row(user, "notice-181", urgency="notice", queued_at=ago(181)),
        _row(user, "bulk-601", urgency="bulk", queued_at=ago(601)),
        _row(user, "never-published", urgency="bulk", queued_at=None),
        _row(user, "dead-claim", urgency="alert", status="sending", attempts=1,
             claimed_at=ago(61)),
    ]
    left = [
        _row(user, "alert-30", urgency="alert", queued_at=ago(30)),
        _row(user, "notice-90", urgency="notice", queued_at=ago(90)),
        _row(user, "bulk-300", urgency="bulk", queued_at=ago(300)),
        _row(user, "backing-off", urgency="alert", queued_at=None,
             due_at=now + datetime.timedelta(seconds=30)),
        _row(user, "live-claim", urgency="alert", status="sending", attempts=1,
             claimed_at=ago(10)),
        _row(user, "sent", urgency="alert", status="sent", sent_at=now, queued_at=ago(999)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue() == len(taken)
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert {statuses[r.pk] for r in taken} == {Status.SENT}
    assert [statuses[r.pk] for r in left] == ["pending"] * 4 + ["sending", "sent"]
    assert len(mail.outbox) == len(taken)
    dead = Notification.objects.get(pk=taken[-1].pk)
    assert dead.crash_retries == 1 and dead.attempts == 2


@pytest.mark.django_db
def test_a_live_claim_is_not_taken_over():
    user = f.UserFactory(email="li@example.cn")
    row = _row(user, "live", urgency="alert", status="sending", attempts=1,
               claimed_at=timezone.now())
    assert notification_deliver(notification_id=row.pk) == Status.SENDING
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_abandoned_claim_is_resent_with_the_same_key_and_recorded(settings):
    """The worker died after the gateway took the message: the resend carries the same key (a
    deduplicating gateway drops it) and the row says a crash retry happened."""
    guardian = f.GuardianFactory(phone="13912345678")
    row = _row(guardian.user, "absent:7", urgency="alert", channel="sms", status="sending",
               attempts=1, claimed_at=timezone.now() - datetime.timedelta(seconds=61))
    assert notification_deliver(notification_id=row.pk) == Status.SENT
    row.refresh_from_db()
    assert (row.attempts, row.crash_retries) == (2, 1)
    assert [m.key for m in LocmemSMSBackend.outbox] == ["absent:7#sms"]


@pytest.mark.django_db
def test_an_email_carries_a_message_id_derived_from_its_key(django_capture_on_commit_callbacks):
    user = f.UserFactory(email="zhang@example.cn")
    row = _row(user, "key:1", status="sending", attempts=1,
               claimed_at=timezone.now() - datetime.timedelta(seconds=600))
    other = _row(user, "key:2")
    for pk in (row.pk, other.pk):
        notification_deliver(notification_id=pk)
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert ids[0] != ids[1] and ids[0].endswith("@kehou.local>")
    # The same key on another worker (a resend) gives the same Message-ID.
    from notifications.channels import message_id
    assert message_id("key:1#email") == ids[0]


@pytest.mark.django_db(transaction=True)
def test_the_claim_is_committed_before_the_send(settings):
    """What another connection sees while the gateway is being called: the row `sending`,
    claimed by this worker, attempt 1 — so a crash from here on is found and recorded."""
    settings.SMS_BACKEND = "tests.notifications.test_outbox.WitnessSMS"
    guardian = f.GuardianFactory(phone="13912345678")
    row = _row(guardian.user, "witness", urgency="alert", channel="sms")
    WitnessSMS.seen = []
    assert notification_deliver(notification_id=row.pk) == Status.SENT
    [(status, attempts, claimed_by)] = WitnessSMS.seen
    assert (status, attempts) == ("sending", 1) and ":" in claimed_by


class WitnessSMS:
    """Reads the row from a second connection in the middle of the send."""

    seen: list = []

    def send(self, phone, text, *, key):
        from django.db import connections

        def look():
            row = (Notification.objects.filter(dedupe_key=key)
                   .values_list("status", "attempts", "claimed_by").first())
            WitnessSMS.seen.append(row)
            connections.close_all()

        thread = threading.Thread(target=look)
        thread.start()
        thread.join()


@pytest.mark.django_db
def test_a_bad_number_fails_for_good_and_an_alert_falls_back_to_email(
        django_capture_on_commit_callbacks, cast):
    guardian = f.GuardianFactory(phone="0571-8888888",
                                 user=f.UserFactory(email="zhang@example.cn"))
    with django_capture_on_commit_callbacks(execute=True):
        notify(**_notice(guardian.user, key="absent:1", urgency="alert", school=cast.school,
                         channels=["in_app", "sms"]))
        notify(**_notice(guardian.user, key="notice:1", school=cast.school, channels=["sms"]))
    rows = {r.dedupe_key: r for r in Notification.objects.filter(recipient=guardian.user)}
    assert rows["absent:1#sms"].status == Status.FAILED
    assert rows["absent:1#sms"].last_error == "不是有效的手机号码"
    assert rows["absent:1#sms"].attempts == 1  # not retried: retrying cannot mend it
    fallback = rows["absent:1#email"]
    assert fallback.status == Status.SENT and fallback.urgency == "alert"
    assert fallback.payload["fallback_for"] == rows["absent:1#sms"].pk
    assert fallback.school_id == cast.school.pk
    assert [m.to for m in mail.outbox] == [["zhang@example.cn"]]
    # A notice has no fallback.
    assert rows["notice:1#sms"].status == Status.FAILED and "notice:1#email" not in rows


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
    from django.conf import settings

    queue = settings.NOTIFICATION_QUEUES["notice"]  # this run's own (config/settings/test.py)
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
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20,
                          queues=list(settings.NOTIFICATION_QUEUES.values())):
            assert notify(**_notice(user, key="test.worker:1")) == 2
            assert notify(**_notice(user, key="test.worker:1")) == 0
            row = Notification.objects.get(recipient=user, channel="email")
            deliver.apply_async((row.pk,), queue=queue)
            deliver.apply_async((row.pk,), queue=queue)
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


@pytest.mark.services
@pytest.mark.django_db
def test_a_backlog_waiting_in_its_queue_is_not_published_twice():
    """A row published long ago is lost only if its lane's queue is empty: behind a backlog it
    is still waiting its turn, and publishing it again would only lengthen the queue."""
    url = os.environ.get("REDIS_URL", "")
    require_service(_redis_available(url), "Redis is not available (REDIS_URL unset)")
    import redis
    from django.conf import settings

    from config.celery import app
    from notifications.tasks import deliver

    broker = redis.Redis.from_url(url)
    queue = settings.NOTIFICATION_QUEUES["bulk"]
    user = f.UserFactory(email="zhao@example.cn")
    old = timezone.now() - datetime.timedelta(seconds=601)
    waiting = _row(user, "bulk-in-queue", urgency="bulk", queued_at=old)
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        app.connection_for_write().default_channel.queue_declare(queue=queue)
        deliver.apply_async((waiting.pk,), queue=queue)  # nobody consumes this run's queue
        assert notifications_requeue() == 0
        assert Notification.objects.get(pk=waiting.pk).queued_at == old
        # The queue emptied (Redis restarted, say) and the row is not sent: it is lost.
        for key in broker.keys(f"{queue}*"):
            broker.delete(key)
        assert notifications_requeue() == 1
        assert Notification.objects.get(pk=waiting.pk).queued_at > old
    finally:
        app.conf.task_always_eager = previous
        for key in broker.keys(f"{queue}*"):
            broker.delete(key)


class BuggySMS:
    """A backend with a bug: every send raises an error no sender classifies."""

    def send(self, phone, text, *, key):
        raise ValueError("unknown url type: ''")


@pytest.mark.django_db
def test_an_unexpected_error_backs_off_and_ends_failed_not_claimed_forever(settings):
    settings.SMS_BACKEND = "tests.notifications.test_outbox.BuggySMS"
    guardian = f.GuardianFactory(phone="13912345678")
    row = _row(guardian.user, "bug:1", urgency="alert", channel="sms")
    for _ in range(MAX_ATTEMPTS - 1):
        assert notification_deliver(notification_id=row.pk) == Status.PENDING
        row.refresh_from_db()
        assert "unknown url type" in row.last_error and row.claimed_at is not None
        _due_now(row)
    assert notification_deliver(notification_id=row.pk) == Status.FAILED


@pytest.mark.django_db
def test_a_claim_lost_on_its_last_attempt_fails_instead_of_sending_again():
    """A send that kills its worker every time must end: the rescan does not hand the row out
    once its attempts are spent."""
    guardian = f.GuardianFactory(phone="13912345678")
    row = _row(guardian.user, "crash:1", urgency="alert", channel="sms", status="sending",
               attempts=MAX_ATTEMPTS,
               claimed_at=timezone.now() - datetime.timedelta(seconds=61))
    assert notification_deliver(notification_id=row.pk) == Status.FAILED
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.crash_retries == 0
    assert LocmemSMSBackend.outbox == []
    # The alert is not dropped: it goes by e-mail instead.
    fallback = Notification.objects.get(channel="email", dedupe_key="crash:1#email")
    assert fallback.payload["fallback_for"] == row.pk


def test_the_gateways_words_are_kept_with_phone_numbers_masked():
    import io
    import urllib.error

    from notifications.channels import _gateway_reason

    exc = urllib.error.HTTPError("http://sms.example", 400, "Bad Request", {},
                                 io.BytesIO(b'{"error": "invalid mobile 13912345678"}'))
    assert _gateway_reason(exc) == "invalid mobile 139****5678"


@pytest.mark.django_db
def test_notify_sql_writes_in_app_rows_as_notify_many_would(django_capture_on_commit_callbacks):
    """Part of a statement that writes what the notices tell of: one in-app row per recipient
    of the FROM item, its key an expression over it, delivered by being written; a key
    already held is skipped, not an error."""
    from django.db import connection

    from notifications.services import notify_sql
    from schools.db import Sql

    users = [f.UserFactory() for _ in range(2)]
    ids = ", ".join(str(u.pk) for u in users)
    part = notify_sql(recipients=Sql(f"(SELECT unnest(ARRAY[{ids}]) AS user_id) AS r"),
                      dedupe_key=Sql("%s || user_id", ("test.sql:",)), purpose="test.sql",
                      subject="放学", body="张小明 已由 张伟 接走。", urgency="alert", url="/x/")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(2):
            with connection.cursor() as cursor:
                cursor.execute(part.text, part.params)
    assert callbacks == []
    rows = Notification.objects.filter(purpose="test.sql").order_by("recipient_id")
    assert [(n.recipient_id, n.dedupe_key) for n in rows] == [
        (u.pk, f"test.sql:{u.pk}#in_app") for u in sorted(users, key=lambda u: u.pk)]
    for n in rows:
        assert (n.channel, n.status, n.urgency, n.subject, n.url) == (
            "in_app", Status.SENT, "alert", "放学", "/x/")
        assert n.sent_at and n.created_at and n.queued_at is None
