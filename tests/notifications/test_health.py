"""What the school and the operators see of delivery: /healthz, the banner on the principal's
and office's pages, the school's list of failed deliveries; and what queuing does when the
broker is away, and where each urgency is queued."""

import datetime
import os

import pytest
from django.utils import timezone

from notifications import health
from notifications.models import Notification
from notifications.services import notifications_requeue, notify_many
from tests import factories as f
from tests.conftest import require_service

from .faults import publishing_to

Status = Notification.Status


def _alert(user, key, *, school=None, age_minutes=0, status="pending", channel="sms", **extra):
    row = Notification.objects.create(
        recipient=user, school=school, channel=channel, urgency="alert",
        purpose="attendance.absent", dedupe_key=f"{key}#{channel}", subject="张小明今天未到",
        body="张小明今天课后服务未到，且未请假。", status=status, **extra)
    Notification.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=age_minutes))
    return row


@pytest.mark.django_db
def test_healthz_is_200_on_the_demo_set_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["tasks"] == {"ok": True, "mode": "in-process"}
    assert body["checks"]["alerts"]["undelivered"] == 0
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_is_503_when_an_alert_waits_more_than_two_minutes(client):
    user = f.UserFactory()
    _alert(user, "fresh", age_minutes=1)
    assert client.get("/healthz").status_code == 200
    _alert(user, "late", age_minutes=3, status="sending", claimed_at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 503
    alerts = response.json()["checks"]["alerts"]
    assert (alerts["ok"], alerts["undelivered"], alerts["late"]) == (False, 2, 1)
    assert 180 <= alerts["oldest_seconds"] < 200
    # A notice that waits is not an emergency.
    Notification.objects.filter(urgency="alert").update(urgency="notice")
    assert client.get("/healthz").status_code == 200


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    require_service(bool(url), "Redis is not available (REDIS_URL unset)")
    return url


@pytest.mark.services
@pytest.mark.django_db
def test_health_follows_the_workers_heartbeats_and_beats_ticks(settings):
    """Without a broker-backed worker the report is degraded (200): a worker that consumes no
    alert queue does not count; beat must tick too."""
    url = _redis_url()
    settings.REDIS_URL = url
    with publishing_to(url):
        client = health._redis()
        client.delete(*[health._key(k) for k in ("worker", "beat", "lane:alert",
                                                 "lane:notice", "lane:bulk")])
        status, body = health.health_report()
        assert (status, body["status"]) == (200, "degraded")
        assert body["checks"]["worker"]["ok"] is False
        health.record_worker_heartbeat("general@x", [settings.NOTIFICATION_QUEUES["notice"],
                                                     settings.NOTIFICATION_QUEUES["bulk"]])
        assert health.health_report()[1]["checks"]["worker"]["lanes"] == {
            "alert": False, "notice": True, "bulk": True}
        health.record_worker_heartbeat("alerts@x", [settings.NOTIFICATION_QUEUES["alert"]])
        status, body = health.health_report()
        assert body["checks"]["worker"]["ok"] is True
        assert body["checks"]["beat"]["ok"] is False and body["status"] == "degraded"
        health._last_tick = 0.0
        health.record_beat_tick()
        status, body = health.health_report()
        assert (status, body["status"]) == (200, "ok")
        assert body["checks"]["beat"]["seconds_since_tick"] <= 1


@pytest.mark.django_db
def test_the_schools_managers_see_a_banner_while_an_alert_is_late(client, cast):
    _alert(cast.parent, "mine", school=cast.school, age_minutes=3)
    _alert(cast.parent, "fresh", school=cast.school, age_minutes=0)
    client.force_login(cast.principal)
    page = client.get("/").content.decode()
    assert "1 条紧急提醒超过 2 分钟仍未送达" in page
    for user in (cast.principal2, cast.parent, cast.teacher):
        client.force_login(user)
        assert "紧急提醒超过" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_school_sees_what_could_not_be_delivered_and_why(client, cast):
    guardian = cast.guardian
    guardian.phone = "13912345678"
    guardian.save()
    _alert(cast.parent, "failed", school=cast.school, status="failed",
           last_error="不是有效的手机号码", attempts=1)
    _alert(cast.parent, "waiting", school=cast.school, age_minutes=4, attempts=2,
           last_error="HTTP 503")
    _alert(cast.parent2, "elsewhere", school=cast.other_school, status="failed",
           last_error="其他学校的失败")
    # No e-mail address: an alert the family could not get by mail is listed; a notice is in
    # the app, and a missing address is no failure.
    _alert(cast.parent2, "alert-no-mail", school=cast.school, status="skipped", channel="email")
    Notification.objects.create(
        recipient=cast.parent2, school=cast.school, channel="email", urgency="notice",
        purpose="scheduling.placement", dedupe_key="notice-no-mail#email", subject="分班结果",
        body="b", status="skipped")
    client.force_login(cast.principal)
    page = client.get("/notifications/deliveries/").content.decode()
    assert "未登记联系方式" in page and "分班结果" not in page
    assert "不是有效的手机号码" in page and "139****5678" in page
    assert "13912345678" not in page  # masked
    assert "HTTP 503" in page and "已尝试 2 次" in page
    assert "其他学校的失败" not in page
    home = client.get("/").content.decode()
    assert "有通知未能送达家长，请电话联系" in home
    client.force_login(cast.principal2)
    page = client.get("/notifications/deliveries/").content.decode()
    assert "其他学校的失败" in page and "不是有效的手机号码" not in page
    for user in (cast.parent, cast.teacher, cast.finance, cast.officer):
        client.force_login(user)
        assert client.get("/notifications/deliveries/").status_code == 404


def _notices(user, n, urgency="notice", tag="n"):
    return [dict(recipient=user, purpose="test.notice", urgency=urgency,
                 dedupe_key=f"test.{tag}:{i}", subject="s", body="b", channels=["email"])
            for i in range(n)]


@pytest.mark.django_db(transaction=True)
def test_queuing_with_the_broker_down_tries_once_and_leaves_the_rows_to_the_rescan(
        monkeypatch):
    """A request that queues 50 messages while Redis is unreachable makes one connection
    attempt (no retry, no attempt per message); the rows are marked unpublished, and the
    first rescan after the broker is back publishes them."""
    from notifications import tasks

    calls = []
    real = tasks.deliver.apply_async

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks.deliver, "apply_async", counting)
    user = f.UserFactory(email="li@example.cn")
    with publishing_to("redis://127.0.0.1:1/0"):  # nothing listens on port 1
        assert notify_many(_notices(user, 50)) == 50  # autocommit: published at once
    assert len(calls) == 1
    rows = Notification.objects.filter(recipient=user)
    assert rows.filter(status=Status.PENDING, queued_at__isnull=True).count() == 50
    # The broker is back (here: tasks run in-process): the rescan publishes every one.
    assert notifications_requeue() == 50
    assert rows.filter(status=Status.SENT).count() == 50


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_each_urgency_goes_to_its_own_queue(settings):
    import redis

    url = _redis_url()
    broker = redis.Redis.from_url(url)
    queues = settings.NOTIFICATION_QUEUES
    broker.delete(*queues.values())
    user = f.UserFactory(email="li@example.cn")
    try:
        with publishing_to(url):
            notify_many(_notices(user, 3, "bulk", "b") + _notices(user, 2, "notice", "n")
                        + _notices(user, 1, "alert", "a"))
        assert {u: broker.llen(q) for u, q in queues.items()} == {
            "alert": 1, "notice": 2, "bulk": 3}
    finally:
        broker.delete(*queues.values())


@pytest.mark.django_db
def test_the_delivery_page_costs_the_same_for_two_rows_or_twenty(client, cast):
    """Each line shows a masked phone read from the recipient's profile: loaded with the rows,
    not one query a line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.principal)

    def queries(n: int) -> int:
        for i in range(n):
            _alert(cast.parent, f"failed-{n}-{i}", school=cast.school, status="failed",
                   last_error="不是有效的手机号码", attempts=1)
        with CaptureQueriesContext(connection) as seen:
            assert client.get("/notifications/deliveries/").status_code == 200
        return len(seen)

    assert queries(2) == queries(18)
