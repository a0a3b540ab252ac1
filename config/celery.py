import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("kehou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class Heartbeat(bootsteps.StartStopStep):
    """Every few seconds a running worker records that it is alive and which queues it
    consumes, for /healthz (notifications.health)."""

    requires = {"celery.worker.components:Timer"}
    every = 10.0

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        from notifications.health import record_worker_heartbeat

        def beat():
            queues = list(worker.app.amqp.queues.consume_from or worker.app.amqp.queues)
            record_worker_heartbeat(worker.hostname, queues)

        beat()
        self.tref = worker.timer.call_repeatedly(self.every, beat, priority=10)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None


app.steps["worker"].add(Heartbeat)
