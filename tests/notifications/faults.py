"""Real parts for the outbox's fault tests: a Redis server of the test's own (so it can be
stopped), Celery workers and beat in processes of their own (so they can be killed), and an SMS
gateway that counts what it receives and drops a repeated idempotency key, as real gateways do
with a client message id."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


class RedisServer:
    """redis-server on a port of its own, keeping nothing on disk: a restart loses every
    queued task, as a Redis without persistence (or a failover) does."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(self._up, 10), "redis-server did not start"

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None


class Gateway:
    """An HTTP SMS gateway (notifications.channels.WebhookSMSBackend's peer). `received` is
    every request; `delivered` counts, per client message id, the messages handed to a phone —
    a repeated id is acknowledged and dropped. `hold(n)` makes the n-th request wait, after it
    was received, until `release()`: the moment to kill the worker that sent it."""

    def __init__(self, *, dedupe: bool = True, delay: float = 0.0):
        self.dedupe = dedupe
        self.delay = delay
        self.received: list[dict] = []
        self.delivered: Counter = Counter()
        self.seen: set[str] = set()
        self.arrived_at: dict[str, float] = {}
        self.lock = threading.Lock()
        self.hold_at = None
        self.holding = threading.Event()
        self.released = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server protocol
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = body.get("client_msg_id") or ""
                with gateway.lock:
                    gateway.received.append(body)
                    n = len(gateway.received)
                    duplicate = gateway.dedupe and bool(key) and key in gateway.seen
                    if not duplicate:
                        gateway.seen.add(key)
                        # A message without a key is known by its text.
                        gateway.delivered[key or body["text"]] += 1
                        gateway.arrived_at.setdefault(key, time.monotonic())
                if n == gateway.hold_at:
                    gateway.holding.set()
                    gateway.released.wait(30)
                if gateway.delay:
                    time.sleep(gateway.delay)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps({"duplicate": duplicate}).encode())
                except OSError:
                    pass  # the sender was killed while we held its request

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hold(self, n: int) -> None:
        self.hold_at = n

    def release(self) -> None:
        self.released.set()

    def copies(self, key_or_text: str) -> int:
        """How many times the message reached the phone."""
        return self.delivered[key_or_text]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release()
        self.server.shutdown()
        self.server.server_close()


class Stack:
    """Workers and beat, each a process group of its own, on the test's database and Redis."""

    def __init__(self, *, redis_url: str, database_name: str, queue_prefix: str,
                 gateway_url: str = "", **settings):
        database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x")
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url.rsplit("/", 1)[0] + "/" + database_name,
            "TEST_DB_NAME": "",
            "REDIS_URL": redis_url,
            "TEST_REAL_WORKER": "1",
            "TEST_QUEUE_PREFIX": queue_prefix,
            "TEST_SMS_BACKEND": "notifications.channels.WebhookSMSBackend",
            "SMS_WEBHOOK_URL": gateway_url,
            "PYTHONPATH": str(ROOT),
            **{k: str(v) for k, v in settings.items()},
        }
        self.prefix = queue_prefix
        self.processes: dict[str, subprocess.Popen] = {}
        self.dir = tempfile.mkdtemp(prefix="kehou-faults-")

    def queues(self, *urgencies: str) -> str:
        return ",".join(f"{self.prefix}-{u}" for u in urgencies)

    def worker(self, name: str, queues: str, *, legacy: bool = False) -> subprocess.Popen:
        module = ["-m", "tests.notifications.legacy_worker"] if legacy else ["-m", "celery"]
        return self._start(name, [sys.executable, *module, "-A", "config", "worker",
                                  "-P", "solo", "-Q", queues, "-n", f"{name}@%h",
                                  "--without-mingle", "--without-gossip", "-l", "warning"])

    def beat(self) -> subprocess.Popen:
        return self._start("beat", [sys.executable, "-m", "celery", "-A", "config", "beat",
                                    "-l", "warning", "-s", f"{self.dir}/beat-schedule"])

    def _start(self, name, command):
        log = open(f"{self.dir}/{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        process.log = log
        self.processes[name] = process
        return process

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(30)
        process.log.close()

    def log(self, name: str) -> str:
        return Path(f"{self.dir}/{name}.log").read_text(errors="replace")[-3000:]

    def close(self):
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM if name == "beat" else signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def publishing_to(redis_url: str):
    """This process's Celery app publishes to `redis_url`, for real (not eagerly)."""
    from config.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager

    def reset():
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url, app.conf.task_always_eager = redis_url, False
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        reset()
