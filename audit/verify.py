"""Recomputing the sealed chain from the database, block by block (memory stays flat)."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connections, transaction
from django.utils import timezone

from audit.chain import GENESIS, Break, block_break, block_holds
from audit.digests import event_digests, events_manifest
from audit.models import AuditArchive, AuditBlock, AuditEvent

PARALLEL_FROM_BLOCKS = 40  # shorter chains are checked in the caller's thread and transaction


@dataclass(frozen=True)
class Verdict:
    blocks: int
    events: int
    unsealed: int
    head: str
    broken: Break | None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def chain_verify(*, since: date | None = None, until: date | None = None) -> Verdict:
    """Check every block (or those whose events fall in ``since``..``until``) against the events
    now in the table, in id order; report the first break. A long chain is checked as two halves
    at once (PostgreSQL hashes the events of each on its own core), then the link between them."""
    archived = AuditArchive.objects.order_by("-through_block").first()
    blocks = AuditBlock.objects.order_by("number")
    if archived:  # their events are in the archive's export; the chain resumes from its anchor
        blocks = blocks.filter(number__gt=archived.through_block)
    if since:
        blocks = blocks.filter(last_event_at__gte=_day_start(since))
    if until:
        blocks = blocks.filter(first_event_at__lt=_day_start(until + timedelta(days=1)))
    numbers = list(blocks.values_list("number", flat=True))
    if len(numbers) < PARALLEL_FROM_BLOCKS:
        runs = [_run(numbers, archived)]
    else:
        middle = len(numbers) // 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = list(pool.map(_run_in_thread, [numbers[:middle], numbers[middle:]], [archived] * 2))
    verdict = _joined(runs)
    if verdict.broken or since or until:
        return verdict
    last = AuditBlock.objects.order_by("-number").values_list("last_event_id", flat=True).first() or 0
    unsealed = AuditEvent.objects.filter(pk__gt=last).count()
    return Verdict(verdict.blocks, verdict.events, unsealed, verdict.head, None)


@dataclass(frozen=True)
class _Run:
    """A run of consecutive blocks checked: how far it got, and the hashes at its two ends."""

    blocks: int
    events: int
    broken: Break | None
    first: AuditBlock | None
    last_hash: bytes


@transaction.atomic  # one snapshot for the run
def _run(numbers: list[int], archived: AuditArchive | None) -> _Run:
    if not numbers:
        return _Run(0, 0, None, None, b"")
    blocks = AuditBlock.objects.filter(number__gte=numbers[0], number__lte=numbers[-1]).order_by("number")
    count = events = 0
    first, previous, after = None, b"", 0
    for block in blocks.defer("sealed_at").iterator(chunk_size=10):  # manifests: 400 kB per block
        if first is None:  # the run anchors on what its first block says came before it
            first, previous, after = block, _anchor(block, archived), _previous_last_event(block)
        if not block_holds(block, previous, events_manifest(after=after, upto=block.last_event_id)):
            rows = [(pk, digest) for pk, _at, digest in event_digests(after=after, upto=block.last_event_id)]
            broken = block_break(block, previous, rows) or Break(block.number, None, "block changed")
            return _Run(count, events, broken, first, previous)
        previous, after = bytes(block.hash), block.last_event_id
        count += 1
        events += block.event_count
    return _Run(count, events, None, first, previous)


def _run_in_thread(numbers: list[int], archived: AuditArchive | None) -> _Run:
    try:
        return _run(numbers, archived)
    finally:
        connections.close_all()  # this thread's own connection


def _joined(runs: list[_Run]) -> Verdict:
    blocks = events = 0
    head = b""
    for run in runs:
        if run.first is not None and head and bytes(run.first.previous_hash) != head:
            link = Break(run.first.number, None, "link broken: the previous block's hash does not match")
            return Verdict(blocks, events, 0, head.hex(), link)
        blocks, events = blocks + run.blocks, events + run.events
        if run.broken:
            return Verdict(blocks, events, 0, head.hex(), run.broken)
        head = run.last_hash or head
    return Verdict(blocks, events, 0, head.hex(), None)


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
