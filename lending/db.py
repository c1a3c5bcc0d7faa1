"""Small database helpers shared by the apps."""

import hashlib

from django.db import connection


def advisory_xact_lock(name: str) -> None:
    """Serialise transactions on ``name`` until commit (PostgreSQL advisory lock).

    For limits that span rows (codes per phone number, say) where no single row can be
    locked. SQLite, the embedded default, serialises writers anyway.
    """
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def bulk_update(objs, fields: list[str]) -> None:
    """Write ``fields`` of many rows of one model in one statement.

    Django's ``bulk_update`` builds a CASE expression per field and row, which costs more
    Python time than the update itself on large batches; on PostgreSQL this sends
    ``UPDATE ... FROM (VALUES ...)`` instead. Elsewhere (SQLite) it falls back to Django's.
    """
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, fields)
        return
    meta = model._meta
    columns = [meta.pk] + [meta.get_field(name) for name in fields]
    casts = [f"{field.cast_db_type(connection)}" for field in columns]
    row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    assignments = ", ".join(f'"{field.column}" = v."{field.column}"' for field in columns[1:])
    names = ", ".join(f'"{field.column}"' for field in columns)
    sql = (
        f'UPDATE "{meta.db_table}" AS t SET {assignments} '  # noqa: S608 (names come from the model)
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v({names}) "
        f'WHERE t."{meta.pk.column}" = v."{meta.pk.column}"'
    )
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
