"""Small database helpers shared by the apps."""

import hashlib

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils import timezone


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


def update_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Set ``fields`` of many rows of ``model`` in one statement; each row is ``(pk, *values)``.

    For batch services (collection) that work on plain values, not model instances. Django's
    ``bulk_update`` builds a CASE expression per field and row, which costs more Python time
    than the update itself; on PostgreSQL this sends ``UPDATE ... FROM (VALUES ...)``.
    Elsewhere (SQLite, the embedded default) it falls back to Django's.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [model(pk=row[0], **dict(zip(fields, row[1:], strict=True))) for row in rows]
        model._default_manager.bulk_update(objs, fields)
        return
    meta = model._meta
    columns = [meta.pk] + [meta.get_field(name) for name in fields]
    row_sql = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in columns) + ")"
    assignments = ", ".join(f'"{field.column}" = v."{field.column}"' for field in columns[1:])
    names = ", ".join(f'"{field.column}"' for field in columns)
    sql = (
        f'UPDATE "{meta.db_table}" AS t SET {assignments} '  # noqa: S608 (names come from the model)
        f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v({names}) "
        f'WHERE t."{meta.pk.column}" = v."{meta.pk.column}"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])


def insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert many rows of ``model`` (``fields`` by attname, e.g. ``installment_id``) without
    building model instances: COPY on PostgreSQL, ``bulk_create`` elsewhere.

    Values must be what the driver takes as they are: ints, strings, Decimals, aware
    datetimes, booleans, None; fields left out get their model default, the same for every
    row. COPY does not pass through Django's cursor wrappers, so query counters do not see it.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(model(**dict(zip(fields, row, strict=True))) for row in rows)
        return
    meta = model._meta
    given = [meta.get_field(name) for name in fields]
    defaults = [field for field in meta.concrete_fields if field not in given and field is not meta.pk]
    extra = tuple(field.get_db_prep_save(field.get_default(), connection) for field in defaults)
    columns = ", ".join(f'"{field.column}"' for field in given + defaults)
    sql = f'COPY "{meta.db_table}" ({columns}) FROM STDIN'  # noqa: S608 (names come from the model)
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row + extra)


_HISTORY_OWN = ("history_date", "history_change_reason", "history_type", "history_user_id")


def history_rows_create(rows, *, reason: str, history_type: str = "~") -> int:
    """A history row (django-simple-history) for each row of the queryset ``rows``, copied from
    the live rows by one ``INSERT ... SELECT``: what ``bulk_history_create`` records for a system
    job (no user), without loading the rows as instances first. ``history_type`` is "~" for a
    change, "+" for a creation. Returns how many rows were written."""
    historical = rows.model.history.model
    tracked = historical.tracked_fields
    try:
        select, params = rows.order_by().values_list(*[f.attname for f in tracked]).query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]: nothing to copy
        return 0
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in tracked)
    own = ", ".join(quote(column) for column in _HISTORY_OWN)
    sql = (
        f"INSERT INTO {quote(historical._meta.db_table)} ({columns}, {own}) "  # noqa: S608 (names come from the models)
        f"SELECT copied.*, %s, %s, %s, NULL FROM ({select}) AS copied"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, reason, history_type, *params])
        return cursor.rowcount
