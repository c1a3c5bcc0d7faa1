"""Sealing audit events into hash-chained blocks. Writers never wait for it: ``record`` takes no
lock; only sealers serialise among themselves."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.chain import GENESIS, block_hash, manifest_entry
from audit.digests import event_digests
from audit.models import AuditBlock
from lending.db import advisory_xact_lock


@transaction.atomic
def audit_block_seal() -> AuditBlock | None:
    """Seal the next events (id order, up to ``AUDIT_SEAL_BLOCK_EVENTS``) into one block.

    Only events older than ``AUDIT_SEAL_DELAY_SECONDS`` are sealed, and sealing stops at the
    first younger one: a transaction still open holds an id below it, and its event must not
    land behind a sealed block (no service transaction lasts that long).
    """
    advisory_xact_lock("audit-sealer")
    last = AuditBlock.objects.order_by("-number").only("number", "last_event_id", "hash").first()
    cutoff = timezone.now() - timedelta(seconds=settings.AUDIT_SEAL_DELAY_SECONDS)
    rows = event_digests(after=last.last_event_id if last else 0, limit=settings.AUDIT_SEAL_BLOCK_EVENTS)
    entries, times = [], []
    for pk, occurred_at, digest in rows:
        if occurred_at >= cutoff:
            break
        entries.append((pk, digest))
        times.append(occurred_at)
    if not entries:
        return None
    manifest = b"".join(manifest_entry(pk, digest) for pk, digest in entries)
    previous = bytes(last.hash) if last else GENESIS
    number = last.number + 1 if last else 1
    return AuditBlock.objects.create(
        number=number,
        first_event_id=entries[0][0],
        last_event_id=entries[-1][0],
        event_count=len(entries),
        first_event_at=min(times),
        last_event_at=max(times),
        manifest=manifest,
        previous_hash=previous,
        hash=block_hash(previous, number, manifest),
    )


def audit_events_seal() -> int:
    """Seal everything that is old enough, block after block; returns the events sealed."""
    sealed = 0
    while (block := audit_block_seal()) is not None:
        sealed += block.event_count
    return sealed
