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
