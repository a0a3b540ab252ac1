"""The outbox at city scale: 60,000 notices, and alerts queued behind them.

    .venv/bin/python bench/notifications.py [--notices 60000] [--alerts 20]

Starts a Redis of its own (redis-server on a free port; with no redis-server installed it uses
REDIS_URL), and the workers as production runs them (docker-compose.yml): one reserved for
alerts, one general worker over every lane (2 processes), and beat. Messages go by SMS to the
console backend (the workers' output is discarded). Then:

- queuing: 60,000 notices through notifications.services.notify_many, in transactions of 5,000
  (an allocation's notices for a large school), rows written and tasks published;
- drain: from the first notice queued to the last one sent, and messages per second;
- alerts: while the backlog drains, one alert every 0.5 s (20 in all); the latency of each
  (queued → sent, from the outbox rows) as p50 and p99. The target is p99 under 5 s.

Everything it writes (users, guardians, notifications) is deleted at the end.
"""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Workers keep their database connection between tasks, as in production (settings/production).
os.environ.setdefault("CONN_MAX_AGE", "60")
TAG = f"bn{os.getpid()}"


def start_redis():
    if not shutil.which("redis-server"):
        if not os.environ.get("REDIS_URL"):
            sys.exit("bench/notifications.py needs redis-server or REDIS_URL")
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    return process


def start(command, log_dir, name):
    log = open(Path(log_dir) / f"{name}.log", "wb")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *command],
                            cwd=ROOT, env=os.environ.copy(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main():
    args = sys.argv[1:]
    n_notices = int(args[args.index("--notices") + 1]) if "--notices" in args else 60_000
    n_alerts = int(args[args.index("--alerts") + 1]) if "--alerts" in args else 20
    redis_process = start_redis()

    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from notifications.models import Notification
    from notifications.services import notify_many
    from schools.models import Guardian, User

    queues = settings.NOTIFICATION_QUEUES
    log_dir = tempfile.mkdtemp(prefix="kehou-bench-")
    processes = [
        start(["worker", "-Q", queues["alert"], "-c", "1", "-n", f"alerts-{TAG}@%h",
               "--without-mingle", "--without-gossip"], log_dir, "alerts"),
        start(["worker", "-Q", ",".join([queues["alert"], queues["notice"], queues["bulk"]]),
               "-c", "2", "-n", f"general-{TAG}@%h", "--without-mingle", "--without-gossip"],
              log_dir, "general"),
        start(["beat", "-s", f"{log_dir}/beat-schedule"], log_dir, "beat"),
    ]
    users = []
    try:
        n_users = 3000
        users = User.objects.bulk_create(
            [User(username=f"{TAG}-{i}", display_name=f"家长{i}") for i in range(n_users)])
        Guardian.objects.bulk_create(
            [Guardian(user=u, name=u.display_name, phone=f"199{i:08d}")
             for i, u in enumerate(users)])
        time.sleep(3)  # the workers start

        def item(i, urgency, tag):
            return dict(recipient=users[i % n_users], purpose=f"bench.{tag}", urgency=urgency,
                        dedupe_key=f"{TAG}:{tag}:{i}", subject="分班结果",
                        body=f"孩子下周的临时班：国画（美术教室） #{i}", channels=["sms"])

        started = time.monotonic()
        chunk = 5000
        for lo in range(0, n_notices, chunk):
            with transaction.atomic():
                notify_many(item(i, "notice", "notice") for i in range(lo, min(n_notices,
                                                                          lo + chunk)))
        queued = time.monotonic() - started
        print(f"queuing: {n_notices:,} notices in {queued:.1f} s "
              f"({n_notices / queued:,.0f}/s: rows written and tasks published)")

        for i in range(n_alerts):
            with transaction.atomic():
                notify_many([item(i, "alert", "alert")])
            time.sleep(0.5)
        notices = Notification.objects.filter(purpose="bench.notice")
        undelivered_behind = notices.exclude(status="sent").count()
        while notices.exclude(status="sent").exists():
            time.sleep(1)
        drained = time.monotonic() - started
        alerts = Notification.objects.filter(purpose="bench.alert")
        while alerts.exclude(status="sent").exists():
            time.sleep(0.2)
        latencies = [(a.sent_at - a.created_at).total_seconds() for a in alerts]
        print(f"drain: {n_notices:,} notices sent {drained:.1f} s after the first was queued "
              f"({n_notices / drained:,.0f} messages/s)")
        print(f"alerts: {n_alerts} queued behind the backlog ({undelivered_behind:,} notices "
              f"still undelivered after the last); latency p50 "
              f"{statistics.median(latencies):.2f} s, p99 {percentile(latencies, 99):.2f} s, "
              f"max {max(latencies):.2f} s (target: p99 < 5 s)")
    finally:
        for p in processes:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in processes:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        Notification.objects.filter(dedupe_key__startswith=f"{TAG}:").delete()
        User.objects.filter(username__startswith=f"{TAG}-").delete()
        if redis_process is not None:
            redis_process.kill()
        shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
