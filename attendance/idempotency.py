"""Tablet writes are idempotent by `client_id`: a replay answers what the first answered and
writes nothing; the same id with another body is refused (422 client_id_reused).

The claim and the stored answer are schools.idempotency's, on this stage's ClientWrite table: a
concurrent replay of the same id waits for the first to commit and gets its answer."""

import datetime
import uuid

from django.utils.translation import gettext_lazy as _

from schools.db import Sql, insert_sql
from schools.errors import DomainError
from schools.idempotency import Reply, claim_key, fingerprint, remember_key, stored_reply

from .models import ClientWrite

__all__ = ["ClientIdReused", "Reply", "claim", "claim_sql", "happened_at", "remember"]


class ClientIdReused(DomainError):
    status = 422
    code = "client_id_reused"
    default_message = _("这个 client_id 已用于另一项不同的操作。")


def happened_at(occurred_at: datetime.datetime | None,
                now: datetime.datetime) -> datetime.datetime:
    """When a tablet says a write happened (it may have waited offline): kept as given, but
    never in the future."""
    return min(occurred_at, now) if occurred_at else now


def claim(*, kind: str, client_id: uuid.UUID, user, body: dict) -> Reply | None:
    """Claim `client_id` inside the caller's transaction: None if it is new (the caller writes
    and then calls `remember`), else the reply stored for it. Raises ClientIdReused."""
    print_ = fingerprint(kind, body)
    stored = claim_key(ClientWrite, key={"client_id": client_id}, created="received_at",
                       values={"kind": kind, "user": user.pk, "fingerprint": print_})
    if stored is None:
        return None
    if stored.fingerprint != print_ or stored.user_id != user.pk:
        raise ClientIdReused(field="client_id")
    return stored_reply(stored)


def remember(client_id: uuid.UUID, reply: Reply) -> Reply:
    return remember_key(ClientWrite, key={"client_id": client_id}, reply=reply)


def claim_sql(*, kind: str, client_id: uuid.UUID, user, body: dict, status: int, reply: Sql,
              source: str) -> Sql:
    """The claim of `client_id` with its reply, as part of the statement that makes the write
    (schools.db.with_parts): one row per row of the part `source`, so none if it wrote nothing;
    an id already claimed fails the whole statement (IntegrityError), which then writes
    nothing, and the caller answers through `claim`."""
    row = ClientWrite(client_id=client_id, kind=kind, user=user,
                      fingerprint=fingerprint(kind, body), status_code=status)
    return insert_sql(row, source=Sql(source), computed={"response": reply})
