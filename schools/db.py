"""Database helpers the stages share."""

import hashlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


def insert_ignoring(model: type[models.Model], rows: list, returning: list[str], *,
                    batch_size: int = 1000) -> list[tuple]:
    """INSERT the rows, skipping each that meets a unique index (ON CONFLICT DO NOTHING), and
    return the `returning` fields of exactly the rows written: one statement per batch, where
    bulk_create(ignore_conflicts=True) returns no ids and would need a lookup before and after.
    A field's value may be an expression (computed by the same statement)."""
    db = router.db_for_write(model)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    written: list[tuple] = []
    with connections[db].cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
            query.insert_values(fields, rows[start:start + batch_size])
            compiler = query.get_compiler(using=db)
            compiler.returning_fields = [meta.get_field(name) for name in returning]
            for sql, params in compiler.as_sql():
                cursor.execute(sql, params)
                written += cursor.fetchall()
    return written


# --- One statement for a write and what it entails ---------------------------------------------
# A write on a hot path (a child released at the school gate) and the rows that go with it (its
# audit entry, the guardians' notice, the tablet's stored reply) can be one statement: each row
# an INSERT in a WITH clause, the later ones reading the first one's RETURNING (its id), so the
# write is one round trip, atomic without a transaction, and a later row exists only if the
# first was written. Each app builds its own part (schools.audit the audit entry, notifications
# the notice) from its model, here.

@dataclass(frozen=True)
class Sql:
    """A piece of SQL and its parameters, in order."""

    text: str
    params: tuple = ()


def insert_sql(obj: models.Model, *, computed: dict[str, Sql] | None = None,
               source: Sql | None = None, ignore_conflicts: bool = False,
               returning: Sequence[str] = ()) -> Sql:
    """`INSERT INTO <obj's table> (...) SELECT ... [FROM source]` for the unsaved `obj`: each
    field's value as `save()` would write it (defaults, auto_now_add), except the fields in
    `computed`, which are SQL expressions over `source`'s columns. With `source`, one row per
    row of the source (none if it is empty)."""
    connection = connections[router.db_for_write(type(obj))]
    quote = connection.ops.quote_name
    meta = obj._meta
    computed = computed or {}
    columns, values, params = [], [], []
    for field in meta.concrete_fields:
        if field.primary_key and field.name not in computed and getattr(obj, field.attname) is None:
            continue
        columns.append(quote(field.column))
        if field.name in computed:
            values.append(computed[field.name].text)
            params += computed[field.name].params
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(obj, add=True), connection))
    text = f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(values)}"
    if source is not None:
        text += f" FROM {source.text}"
        params += source.params
    if ignore_conflicts:
        text += " ON CONFLICT DO NOTHING"
    if returning:
        text += " RETURNING " + ", ".join(quote(meta.get_field(n).column) for n in returning)
    return Sql(text, tuple(params))


def with_parts(parts: dict[str, Sql], final: Sql) -> Sql:
    """`WITH name AS (part), ... final`: the parts run as one statement; `final` reads them."""
    head = ", ".join(f"{name} AS ({part.text})" for name, part in parts.items())
    return Sql(f"WITH {head} {final.text}",
               tuple(p for part in [*parts.values(), final] for p in part.params))


def fetch_one_prepared(statement: Sql, *, using: str = DEFAULT_DB_ALIAS) -> tuple | None:
    """Run `statement` as a prepared statement of the connection and return its first row: a
    statement run hundreds of times a second (the handoff's) is parsed and planned once per
    connection instead of at every run, which on a busy database server costs more than
    running it. The names prepared are kept with the connection they were prepared on, so a
    new connection prepares afresh. (Behind a pooler that hands one client's statements to
    several server connections, such as pgbouncer in transaction mode, this does not hold.)"""
    connection = connections[using]
    with connection.cursor() as cursor:
        kept = getattr(connection, "prepared_statements", None)
        if kept is None or kept[0] is not connection.connection:
            kept = connection.prepared_statements = (connection.connection, set())
        name = "p_" + hashlib.sha1(statement.text.encode()).hexdigest()[:20]
        if name not in kept[1]:
            numbers = itertools.count(1)
            text = re.sub(r"%%|%s", lambda m: "%" if m.group() == "%%" else f"${next(numbers)}",
                          statement.text)
            cursor.execute(f"PREPARE {name} AS {text}")
            kept[1].add(name)
        if statement.params:
            cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(statement.params))})",
                           statement.params)
        else:
            cursor.execute(f"EXECUTE {name}")
        return cursor.fetchone()
