"""The outbox under faults, on real parts: Celery workers and beat in processes of their own on a
Redis of the test's own, PostgreSQL, and an SMS gateway that drops a repeated idempotency key.
Each fault test has a control that runs the same fault against the delivery or the lanes as
they were before, and shows the fault is caught.

These take a few minutes in all; they are marked `services` (they need redis-server)."""

import datetime
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications.health import health_report
from notifications.models import Notification
from notifications.services import notify_many
from tests import factories as f
from tests.conftest import require_service

from .faults import Gateway, RedisServer, Stack, publishing_to, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
Status = Notification.Status


@pytest.fixture
def redis_server():
    require_service(RedisServer.available(), "redis-server is not installed")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(redis_server, settings):
    stacks = []

    def make(gateway_url="", **env):
        s = Stack(redis_url=redis_server.url, database_name=connection.settings_dict["NAME"],
                  queue_prefix=settings.CELERY_TASK_DEFAULT_QUEUE, gateway_url=gateway_url,
                  **env)
        stacks.append(s)
        return s

    yield make
    for s in stacks:
        s.close()


def _alerts(guardians, tag, *, urgency="alert"):
    return [dict(recipient=g.user, purpose="test.absent", urgency=urgency,
                 dedupe_key=f"test.absent:{tag}:{i}", subject="未到", channels=["sms"],
                 body=f"{tag} 第 {i} 位孩子今天课后服务未到，且未请假。")
            for i, g in enumerate(guardians)]


def _queue(items) -> float:
    """Queue in one transaction, as a request would; the seconds the commit took."""
    started = time.monotonic()
    with transaction.atomic():
        notify_many(items)
    return time.monotonic() - started


def _all_sent(keys) -> bool:
    return not Notification.objects.filter(dedupe_key__in=keys).exclude(
        status=Status.SENT).exists()


def _kill_mid_send(stack, redis_server, *, legacy: bool):
    """100 alerts; the worker is SIGKILLed while the gateway holds the 40th send (received,
    not yet answered); a second worker and beat take over. Returns (gateway, held row)."""
    guardians = [f.GuardianFactory() for _ in range(100)]
    items = _alerts(guardians, "kill")
    with Gateway() as gateway:
        # A claim is taken over 5 s after it was made, and beat rescans every 2 s, so the test
        # runs in seconds; the production timeouts (60 s) are tested by the outage test.
        s = stack(gateway.url, NOTIFICATION_ALERT_REQUEUE_AFTER=5, NOTIFICATION_RESCAN_EVERY=2)
        gateway.hold(40)
        with publishing_to(redis_server.url):
            _queue(items)
            s.worker("first", s.queues("alert"), legacy=legacy)
            assert gateway.holding.wait(60), s.log("first")
            s.kill("first")
            gateway.release()
            held = gateway.received[39]
            s.worker("second", s.queues("alert"), legacy=legacy)
            s.beat()
            keys = [f"{item['dedupe_key']}#sms" for item in items]
            assert wait_for(lambda: _all_sent(keys), 90, every=0.5), s.log("second")
    row = Notification.objects.get(body=held["text"].removeprefix("【课后服务】"))
    return gateway, held, row, keys


def test_a_worker_killed_mid_send_delivers_each_message_exactly_once(stack, redis_server):
    gateway, held, row, keys = _kill_mid_send(stack, redis_server, legacy=False)
    # Every message reached its phone once; the one in flight was sent twice with its key and
    # the gateway dropped the second copy.
    assert [gateway.copies(k) for k in keys] == [1] * 100
    assert len(gateway.received) == 101
    assert held["client_msg_id"] == row.dedupe_key
    # The row says what happened: a second attempt, after a crash.
    assert (row.status, row.attempts, row.crash_retries) == (Status.SENT, 2, 1)
    assert Notification.objects.filter(crash_retries__gt=0).count() == 1


def test_control_without_the_claim_the_kill_duplicates_silently(stack, redis_server):
    gateway, held, row, _keys = _kill_mid_send(stack, redis_server, legacy=True)
    # The message in flight reached the phone twice, and the row does not show it.
    assert gateway.copies(held["text"]) == 2
    assert (row.status, row.attempts, row.crash_retries) == (Status.SENT, 1, 0)


def _outage(stack, redis_server, *, wait: float, **timings):
    """A batch of 300 notices and 100 alerts is being delivered when Redis dies, losing every
    queued task; 10 alerts are queued while it is down; it comes back (empty) 20 s later.
    Returns whether every alert was delivered within `wait` s of Redis returning, how long
    that took, how long queuing took while Redis was down, and the gateway."""
    guardians = [f.GuardianFactory() for _ in range(100)]
    notices = _alerts(guardians * 3, "notice", urgency="notice")
    for i, item in enumerate(notices):
        item["dedupe_key"] += f":{i}"
    alerts = _alerts(guardians, "before")
    during = _alerts(guardians[:10], "during")
    with Gateway(delay=0.05) as gateway:
        s = stack(gateway.url, **timings)
        s.worker("alerts", s.queues("alert"))
        s.worker("general", s.queues("alert", "notice", "bulk"))
        s.beat()
        with publishing_to(redis_server.url):
            _queue(notices + alerts)
            assert wait_for(lambda: len(gateway.received) >= 10, 60), s.log("general")
            redis_server.stop()
            stopped = time.monotonic()
            blocked = _queue(during)
            time.sleep(max(0.0, 20 - (time.monotonic() - stopped)))
            redis_server.start()
            back = time.monotonic()
            keys = [f"{item['dedupe_key']}#sms" for item in alerts + during]
            delivered = wait_for(lambda: _all_sent(keys), wait, every=0.5)
            took = time.monotonic() - back
    return delivered, took, blocked, gateway, s


def test_alerts_arrive_within_two_minutes_of_redis_returning(stack, redis_server):
    """Production timings: rescan every 60 s, alerts re-queued 60 s after they were
    published."""
    delivered, took, blocked, gateway, s = _outage(stack, redis_server, wait=130)
    print(f"\nqueuing 10 alerts with Redis down: {blocked:.3f} s; every alert delivered "
          f"{took:.1f} s after Redis returned; {len(gateway.received)} sends received")
    assert delivered and took <= 120, s.log("general")
    # Nothing reached a phone twice; no notice was lost (each is sent or still queued).
    assert max(gateway.delivered.values()) == 1
    assert Notification.objects.filter(purpose="test.absent").exclude(
        status__in=[Status.SENT, Status.PENDING, Status.SENDING]).count() == 0


def test_control_with_the_old_rescan_alerts_wait_longer(stack, redis_server):
    """The rescan as it was (every 300 s, rows older than 10 minutes): two minutes after
    Redis returned, alerts lost with it are still undelivered."""
    delivered, *_rest = _outage(stack, redis_server, wait=120, NOTIFICATION_RESCAN_EVERY=300,
                                NOTIFICATION_ALERT_REQUEUE_AFTER=600)
    assert not delivered


def _backlog_then_alert(stack, redis_server, settings, *, lanes: bool):
    guardian = f.GuardianFactory()
    bulk = [dict(recipient=guardian.user, purpose="test.digest", urgency="bulk",
                 dedupe_key=f"test.digest:{i}", subject="汇总", body=f"第 {i} 份汇总",
                 channels=["sms"]) for i in range(6000)]
    alert = _alerts([guardian], "urgent")
    with Gateway() as gateway:
        s = stack(gateway.url)
        if lanes:
            s.worker("alerts", s.queues("alert"))
            s.worker("general", s.queues("alert", "notice", "bulk"))
        else:
            # Before: one queue for every message, one worker.
            one = settings.NOTIFICATION_QUEUES["notice"]
            settings.NOTIFICATION_QUEUES = dict.fromkeys(("alert", "notice", "bulk"), one)
            s.worker("general", one)
        with publishing_to(redis_server.url):
            _queue(bulk)
            assert wait_for(lambda: len(gateway.received) >= 100, 60), s.log("general")
            started = time.monotonic()
            _queue(alert)
            arrived = wait_for(lambda: "test.absent:urgent:0#sms" in gateway.arrived_at, 10,
                               every=0.01)
            took = time.monotonic() - started
            behind = 6000 - len(gateway.received)
    return arrived, took, behind


def test_an_alert_overtakes_six_thousand_bulk_notices(stack, redis_server, settings):
    arrived, took, behind = _backlog_then_alert(stack, redis_server, settings, lanes=True)
    print(f"\nalert delivered {took:.2f} s after queuing, with {behind} bulk notices "
          f"still undelivered")
    assert arrived and behind > 1000


def test_control_in_one_queue_the_alert_waits_behind_the_backlog(stack, redis_server,
                                                                 settings):
    arrived, _took, behind = _backlog_then_alert(stack, redis_server, settings, lanes=False)
    assert not arrived and behind > 0


def test_healthz_reports_a_live_worker_and_fails_when_an_alert_waits(
        stack, redis_server, settings, client):
    settings.REDIS_URL = redis_server.url
    s = stack()
    s.worker("general", s.queues("alert", "notice", "bulk"))
    s.beat()
    with publishing_to(redis_server.url):
        def healthy():
            return health_report()[1]["status"] == "ok"

        assert wait_for(healthy, 30, every=0.5), health_report()
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["checks"]["worker"]["lanes"] == {"alert": True, "notice": True,
                                                     "bulk": True}
        assert body["checks"]["alerts"]["undelivered"] == 0

        s.kill("general")
        guardian = f.GuardianFactory()
        row = Notification.objects.create(
            recipient=guardian.user, channel="sms", urgency="alert", purpose="test.absent",
            dedupe_key="test.absent:stuck#sms", subject="未到", body="未到")
        Notification.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - datetime.timedelta(minutes=3))
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "failing"
        assert body["checks"]["alerts"] == {"ok": False, "undelivered": 1, "late": 1,
                                            "oldest_seconds": body["checks"]["alerts"][
                                                "oldest_seconds"], "limit_seconds": 120}
        assert body["checks"]["alerts"]["oldest_seconds"] >= 180
