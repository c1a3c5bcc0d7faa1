"""Recomputing the sealed chain from the database, streaming (memory stays flat)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from audit.chain import FIELDS, GENESIS, Break, block_break, event_digest
from audit.models import AuditArchive, AuditBlock, AuditEvent

CHUNK = 5000


@dataclass(frozen=True)
class Verdict:
    blocks: int
    events: int
    unsealed: int
    head: str
    broken: Break | None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@transaction.atomic  # one snapshot, and cursors that stream instead of being held whole
def chain_verify(*, since: date | None = None, until: date | None = None) -> Verdict:
    """Check every block (or those whose events fall in ``since``..``until``) against the events
    now in the table, in id order; stop at the first break."""
    archived = AuditArchive.objects.order_by("-through_block").first()
    blocks = AuditBlock.objects.order_by("number").defer("sealed_at")
    if archived:  # their events are in the archive's export; the chain resumes from its anchor
        blocks = blocks.filter(number__gt=archived.through_block)
    if since:
        blocks = blocks.filter(last_event_at__gte=_day_start(since))
    if until:
        blocks = blocks.filter(first_event_at__lt=_day_start(until + timedelta(days=1)))
    count = events = 0
    previous, head, stream, pending = None, "", None, None
    for block in blocks.iterator(chunk_size=20):
        if previous is None:  # the first block checked anchors on what it says came before it
            previous = _anchor(block, archived)
            stream = _event_stream(after=_previous_last_event(block))
        rows = []
        while True:
            if pending is None:
                pending = next(stream, None)
            if pending is None or pending[0] > block.last_event_id:
                break
            rows.append(pending)
            pending = None
        broken = block_break(block, previous, rows)
        if broken:
            return Verdict(count, events, 0, head, broken)
        previous, head = bytes(block.hash), block.hash_hex
        count += 1
        events += block.event_count
    unsealed = 0
    if not since and not until:
        last = AuditBlock.objects.order_by("-number").values_list("last_event_id", flat=True).first() or 0
        unsealed = AuditEvent.objects.filter(pk__gt=last).count()
    return Verdict(count, events, unsealed, head, None)


def _anchor(block: AuditBlock, archived: AuditArchive | None) -> bytes:
    """The hash the first block checked must follow: genesis, the archive's anchor, or (a
    range checked alone) what the block itself says came before it."""
    if block.number == 1:
        return GENESIS
    if archived and block.number == archived.through_block + 1:
        return bytes(archived.anchor_hash)
    return bytes(block.previous_hash)


def _previous_last_event(block: AuditBlock) -> int:
    before = (
        AuditBlock.objects.filter(number=block.number - 1).values_list("last_event_id", flat=True).first()
    )
    return before or 0


def _event_stream(after: int):
    rows = AuditEvent.objects.filter(pk__gt=after).order_by("pk").values_list("pk", *FIELDS)
    for pk, *values in rows.iterator(chunk_size=CHUNK):
        yield pk, event_digest(dict(zip(FIELDS, values, strict=True)))
