"""Writes that may arrive twice (a tablet's `client_id`, a payment's `Idempotency-Key`): the
first claims its key, a replay answers what the first answered and writes nothing, and the
same key with another body is refused by the caller.

Each stage keeps its keys in a table of its own with `fingerprint`, `status_code` and
`response` columns; this module claims and answers on any of them. The claim is an INSERT of
the key, first thing in the write's transaction: a concurrent replay waits on the key's
unique index until the first transaction ends, then finds the stored answer, so copies sent at
once get one write and identical replies. Plain SQL: on the tablet's hot path the ORM's insert
and update would cost several times these statements."""

import hashlib
import json
from dataclasses import dataclass

from django.db import connection, models
from django.utils import timezone


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict


def fingerprint(kind: str, body: dict) -> str:
    canonical = json.dumps({"kind": kind, **body}, sort_keys=True, default=str,
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _column(model: type[models.Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def claim_key(model: type[models.Model], *, key: dict, values: dict, created: str):
    """Insert the key row (`key`: the unique columns' values; `values`: the rest, with the
    fingerprint; `created`: the time column) inside the caller's transaction. None if the key
    is new; else the stored row, for the caller to compare and answer from."""
    fields = {**key, **values}
    columns = [_column(model, name) for name in fields]
    conflict = ", ".join(_column(model, name) for name in key)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}, "
            f"{_column(model, 'response')}, {_column(model, created)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}, '{{}}'::jsonb, %s) "
            f"ON CONFLICT ({conflict}) DO NOTHING RETURNING 1",
            [*fields.values(), timezone.now()])
        if cursor.fetchone() is not None:
            return None
    return model.objects.get(**key)


def stored_reply(row) -> Reply:
    return Reply(row.status_code or 200, row.response)


def remember_key(model: type[models.Model], *, key: dict, reply: Reply) -> Reply:
    """Store the answer on the claimed key row."""
    where = " AND ".join(f"{_column(model, name)} = %s" for name in key)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} SET {_column(model, 'status_code')} = %s, "
            f"{_column(model, 'response')} = %s::jsonb WHERE {where}",
            [reply.status, json.dumps(reply.body), *key.values()])
    return reply
