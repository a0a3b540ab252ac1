"""Tablet writes are idempotent by `client_id`: a replay answers what the first answered and
writes nothing; the same id with another body is refused (422 client_id_reused).

The claim is an INSERT of the id, first thing in the write's transaction. A concurrent replay
of the same id waits on that row's unique index until the first transaction ends, then finds
the stored answer, so three copies sent at once get one write and three identical replies."""

import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext_lazy as _

from schools.errors import DomainError

from .models import ClientWrite


class ClientIdReused(DomainError):
    status = 422
    code = "client_id_reused"
    default_message = _("这个 client_id 已用于另一项不同的操作。")


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict


def happened_at(occurred_at: datetime.datetime | None,
                now: datetime.datetime) -> datetime.datetime:
    """When a tablet says a write happened (it may have waited offline): kept as given, but
    never in the future."""
    return min(occurred_at, now) if occurred_at else now


def fingerprint(kind: str, body: dict) -> str:
    canonical = json.dumps({"kind": kind, **body}, sort_keys=True, default=str,
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(*, kind: str, client_id: uuid.UUID, user, body: dict) -> Reply | None:
    """Claim `client_id` inside the caller's transaction: None if it is new (the caller writes
    and then calls `remember`), else the reply stored for it. Raises ClientIdReused."""
    print_ = fingerprint(kind, body)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO attendance_clientwrite (client_id, kind, user_id, fingerprint, "
            "response, received_at) VALUES (%s, %s, %s, %s, '{}'::jsonb, now()) "
            "ON CONFLICT (client_id) DO NOTHING RETURNING client_id",
            [client_id, kind, user.pk, print_])
        if cursor.fetchone() is not None:
            return None
    stored = ClientWrite.objects.get(pk=client_id)
    if stored.fingerprint != print_ or stored.user_id != user.pk:
        raise ClientIdReused(field="client_id")
    return Reply(stored.status_code or 200, stored.response)


def remember(client_id: uuid.UUID, reply: Reply) -> Reply:
    # Plain SQL like the claim: the reply is stored on every tablet write, and the ORM's
    # update would cost several times this statement.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE attendance_clientwrite SET status_code = %s, response = %s::jsonb "
                       "WHERE client_id = %s", [reply.status, json.dumps(reply.body), client_id])
    return reply
