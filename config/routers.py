"""Reads that may go to a read replica: the district's oversight reads, marked by
`replica_reads()`. Without a `replica` database configured everything stays on the primary;
writes always go to the primary."""

import contextlib
import contextvars
from collections.abc import Iterator

from django.conf import settings

REPLICA = "replica"
_on_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reads",
                                                                  default=False)


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Send the reads inside to the replica, when one is configured (a replica lags the
    primary a little: only for reads that tolerate it, such as the district's figures)."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _on_replica.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
