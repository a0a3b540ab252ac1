"""Celery beat's scheduler, recording each tick for /healthz (notifications.health)."""

from celery.beat import PersistentScheduler


class Scheduler(PersistentScheduler):
    def tick(self, *args, **kwargs):
        from notifications.health import record_beat_tick

        record_beat_tick()
        return super().tick(*args, **kwargs)
