r"""The sealed hash chain over audit events: how events and blocks are hashed, and how to check them.

Byte encoding of one event (fixed; changing it breaks every existing seal)
--------------------------------------------------------------------------
The event's columns in this order, each written as a 4-byte big-endian length followed by that
many bytes of UTF-8 text::

    occurred_at   UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ"
    actor_id      decimal, or empty
    actor_kind, actor_label, action, subject_type, subject_id
    ip            as stored, or empty
    user_agent, request_id
    data          PostgreSQL's jsonb text output: object keys ordered by byte length, then by
                  bytes; ", " between items and ": " after keys; strings escaped as JSON
                  (\" \\ \b \f \n \r \t, other controls \u00xx), non-ASCII kept; numbers
                  in plain decimal notation

The event digest is SHA-256 of those bytes. On PostgreSQL the database computes it
(``DIGESTS_SQL``), so sealing and verifying read 32 bytes per event; ``event_digest`` is the
reference implementation (SQLite, and the test that holds the two equal). The id is not part
of it: a block lists the ids it seals with their digests, so a row whose content moved to
another id reads as "reordered".

A block seals the events with ids in ``first_event_id..last_event_id``. Its manifest is, for each
event in id order, the id as 8 bytes big-endian followed by the 32-byte digest; its hash is
SHA-256 of ``previous block hash (32 bytes, zeros for the first) || block number (8 bytes) ||
manifest``. Changing, removing, inserting or reordering an event, or changing a block, breaks
the hash of that block or the link from the next one.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

GENESIS = bytes(32)
ID_BYTES = 8
ENTRY = ID_BYTES + 32

FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_kind",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "ip",
    "user_agent",
    "request_id",
    "data",
)


# The same encoding in SQL: each column's text as UTF-8 bytes, then length-prefixed and hashed.
_SQL_TEXT = (
    """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
    "coalesce(actor_id::text, '')",
    "actor_kind",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "coalesce(host(ip), '')",
    "user_agent",
    "request_id",
    "data::text",
)
_BYTES = ", ".join(f"convert_to({text}, 'UTF8') AS f{i}" for i, text in enumerate(_SQL_TEXT))
_PREFIXED = " || ".join(f"int4send(length(f{i})) || f{i}" for i in range(len(_SQL_TEXT)))
_EVENTS = (
    f"(SELECT id, occurred_at, {_BYTES} FROM audit_auditevent"  # noqa: S608 - constants only
    " WHERE id > %s AND id <= %s ORDER BY id LIMIT %s) AS e"
)
DIGESTS_SQL = f"SELECT id, occurred_at, sha256({_PREFIXED}) FROM {_EVENTS}"  # noqa: S608 - constants only
"""(id, occurred_at, digest) of the events with ``lower < id <= upper``, at most ``limit``."""
MANIFEST_SQL = f"SELECT string_agg(int8send(id) || sha256({_PREFIXED}), ''::bytea ORDER BY id) FROM {_EVENTS}"  # noqa: S608
"""The manifest those events would seal into (see above), in one value."""


def _json_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def jsonb_text(value) -> str:
    """``value`` as PostgreSQL prints it as jsonb (see the encoding above)."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return "{" + ", ".join(f"{_json_string(key)}: {jsonb_text(value[key])}" for key in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return _json_string(str(value))


def _text(name: str, value) -> str:
    if name == "data":
        return jsonb_text(value)
    if value is None:
        return ""
    if name == "occurred_at":
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def event_digest(row: dict) -> bytes:
    """SHA-256 of one event's fixed byte encoding (``row`` maps FIELDS to column values)."""
    digest = hashlib.sha256()
    for name in FIELDS:
        encoded = _text(name, row[name]).encode()
        digest.update(len(encoded).to_bytes(4, "big"))
        digest.update(encoded)
    return digest.digest()


def manifest_entry(event_id: int, digest: bytes) -> bytes:
    return event_id.to_bytes(ID_BYTES, "big") + digest


def block_hash(previous: bytes, number: int, manifest: bytes) -> bytes:
    return hashlib.sha256(previous + number.to_bytes(8, "big") + manifest).digest()


def manifest_entries(manifest: bytes):
    for offset in range(0, len(manifest), ENTRY):
        yield (
            int.from_bytes(manifest[offset : offset + ID_BYTES], "big"),
            manifest[offset + ID_BYTES : offset + ENTRY],
        )


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    block: int
    event_id: int | None
    reason: str  # changed, missing, inserted, reordered, block changed, link broken

    def __str__(self):
        where = f"block {self.block}" + (f", event {self.event_id}" if self.event_id is not None else "")
        return f"{where}: {self.reason}"


def block_holds(block, previous: bytes, manifest: bytes) -> bool:
    """The fast check: the events now in the block's range make exactly its manifest, it follows
    ``previous`` and its hash is right (``block_break`` then says where and why, when not)."""
    return (
        bytes(block.previous_hash) == previous
        and manifest == bytes(block.manifest)
        and block_hash(previous, block.number, manifest) == bytes(block.hash)
    )


def block_break(block, previous: bytes, rows: list[tuple[int, bytes]]) -> Break | None:
    """Compare one stored block with the events now in its id range (``rows``: id, digest)."""
    if bytes(block.previous_hash) != previous:
        return Break(block.number, None, "link broken: the previous block's hash does not match")
    sealed = list(manifest_entries(bytes(block.manifest)))
    sealed_ids = {event_id: digest for event_id, digest in sealed}
    by_digest = {digest: event_id for event_id, digest in sealed}
    present = dict(rows)
    for event_id, digest in sealed:
        if event_id not in present:
            return Break(block.number, event_id, "missing: a sealed event was removed")
        if present[event_id] != digest:
            moved = by_digest.get(present[event_id])
            reason = f"reordered: it holds what was sealed as event {moved}" if moved else "changed"
            return Break(block.number, event_id, reason)
    for event_id, _ in rows:
        if event_id not in sealed_ids:
            return Break(block.number, event_id, "inserted: not sealed in this block")
    if block_hash(previous, block.number, bytes(block.manifest)) != bytes(block.hash):
        return Break(block.number, None, "block changed: its hash does not match its manifest")
    return None
