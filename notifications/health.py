"""Is delivery working? Workers record a heartbeat and beat its ticks in Redis; /healthz reads
them with the database, Redis and the age of the oldest undelivered alert. A school's managers
see their own delayed alerts and failed deliveries (notifications.views)."""

import datetime
import time

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from .models import Notification
from .selectors import UNDELIVERED

WORKER_STALE_AFTER = 60  # seconds without a heartbeat (workers beat every 10 s)
BEAT_STALE_AFTER = 90  # seconds without a tick (beat wakes every 15 s at most)
_last_tick = 0.0


def _redis() -> Redis | None:
    """A client that fails at once when Redis is down: a health check must answer quickly."""
    if not settings.REDIS_URL:
        return None
    return Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5,
                          retry=Retry(NoBackoff(), 0))


def _key(name: str) -> str:
    # Named after the alert queue, so deployments (and test runs) sharing a Redis keep apart.
    return f"kehou:health:{settings.NOTIFICATION_QUEUES['alert']}:{name}"


def record_worker_heartbeat(hostname: str, queues: list[str]) -> None:
    client = _redis()
    if client is None:
        return
    now = time.time()
    try:
        pipe = client.pipeline()
        pipe.set(_key("worker"), now, ex=WORKER_STALE_AFTER * 2)
        for urgency, queue in settings.NOTIFICATION_QUEUES.items():
            if queue in queues:
                pipe.set(_key(f"lane:{urgency}"), now, ex=WORKER_STALE_AFTER * 2)
        pipe.execute()
    except RedisError:
        pass  # Redis is down: the worker cannot consume either; /healthz will say so


def record_beat_tick() -> None:
    global _last_tick
    now = time.time()
    if now - _last_tick < 5:
        return
    client = _redis()
    if client is None:
        return
    try:
        client.set(_key("beat"), now, ex=BEAT_STALE_AFTER * 2)
        _last_tick = now
    except RedisError:
        pass


def alert_backlog(school_ids=None) -> dict:
    """Undelivered alerts: how many, how many waited past the limit, the oldest's age (s)."""
    qs = Notification.objects.filter(urgency=Notification.Urgency.ALERT, status__in=UNDELIVERED)
    if school_ids is not None:
        qs = qs.filter(school_id__in=list(school_ids))
    limit = timezone.now() - datetime.timedelta(seconds=settings.ALERT_DELAY_LIMIT)
    row = qs.aggregate(n=Count("pk"), oldest=Min("created_at"),
                       late=Count("pk", filter=Q(created_at__lt=limit)))
    oldest = row["oldest"]
    age = None if oldest is None else max(0, round((timezone.now() - oldest).total_seconds()))
    return {"undelivered": row["n"], "late": row["late"], "oldest_seconds": age}


def _age(client: Redis, name: str) -> int | None:
    value = client.get(_key(name))
    return None if value is None else max(0, round(time.time() - float(value)))


def health_report() -> tuple[int, dict]:
    """(HTTP status, body). 503 when the database is unreachable or an alert has waited longer
    than ALERT_DELAY_LIMIT; "degraded" (200) when Redis, a worker or beat is missing but no
    alert is late yet."""
    checks: dict[str, dict] = {}
    failing = degraded = False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
        failing = True

    if current_app.conf.task_always_eager:
        # No broker: tasks run in the request that queues them; no worker or beat to watch.
        checks["tasks"] = {"ok": True, "mode": "in-process"}
    else:
        client = _redis()
        try:
            client.ping()
            checks["redis"] = {"ok": True}
            worker, beat = _age(client, "worker"), _age(client, "beat")
            lanes = {u: _age(client, f"lane:{u}") for u in settings.NOTIFICATION_QUEUES}
            lanes_ok = {u: age is not None and age <= WORKER_STALE_AFTER
                        for u, age in lanes.items()}
            checks["worker"] = {
                "ok": worker is not None and worker <= WORKER_STALE_AFTER and all(
                    lanes_ok.values()),
                "seconds_since_heartbeat": worker, "lanes": lanes_ok}
            checks["beat"] = {"ok": beat is not None and beat <= BEAT_STALE_AFTER,
                              "seconds_since_tick": beat}
        except RedisError as exc:
            checks["redis"] = {"ok": False, "error": exc.__class__.__name__}
        degraded = not all(checks[k]["ok"] for k in ("redis", "worker", "beat") if k in checks)

    if checks["database"]["ok"]:
        backlog = alert_backlog()
        late = backlog["oldest_seconds"] is not None and \
            backlog["oldest_seconds"] > settings.ALERT_DELAY_LIMIT
        checks["alerts"] = {"ok": not late, **backlog,
                            "limit_seconds": settings.ALERT_DELAY_LIMIT}
        failing = failing or late
    status = "failing" if failing else "degraded" if degraded else "ok"
    return (503 if failing else 200), {"status": status, "time": timezone.now().isoformat(),
                                       "checks": checks}
