"""Database helpers the stages share."""

from django.db import connections, models, router
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
