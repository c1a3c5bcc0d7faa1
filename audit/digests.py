"""Event digests read from the database: computed by PostgreSQL in one query (32 bytes back per
event), or here with the reference encoding on other databases."""

from django.db import connection

from audit.chain import DIGESTS_SQL, FIELDS, MANIFEST_SQL, event_digest, manifest_entry
from audit.models import AuditEvent

NO_LIMIT = 2**62


def event_digests(*, after: int, upto: int = NO_LIMIT, limit: int = NO_LIMIT) -> list[tuple]:
    """(id, occurred_at, digest) of the events with ``after < id <= upto`` in id order, at most
    ``limit`` of them (callers ask block by block, so the list stays small)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(DIGESTS_SQL, [after, upto, limit])
            return [(pk, at, bytes(digest)) for pk, at, digest in cursor.fetchall()]
    rows = (
        AuditEvent.objects.filter(pk__gt=after, pk__lte=upto)
        .order_by("pk")
        .values_list("pk", *FIELDS)[:limit]
    )
    found = []
    for pk, *values in rows:
        row = dict(zip(FIELDS, values, strict=True))
        found.append((pk, row["occurred_at"], event_digest(row)))
    return found


def events_manifest(*, after: int, upto: int) -> bytes:
    """The manifest the events with ``after < id <= upto`` make now (PostgreSQL: one value back)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(MANIFEST_SQL, [after, upto, NO_LIMIT])
            return bytes(cursor.fetchone()[0] or b"")
    return b"".join(manifest_entry(pk, digest) for pk, _at, digest in event_digests(after=after, upto=upto))
