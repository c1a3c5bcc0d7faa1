"""Retention: audit events past ``AUDIT_RETENTION_DAYS`` leave the table only as whole sealed
blocks, after an export of them with a signed manifest (``archive_audit_events``).

The blocks themselves stay, so the chain still verifies from the last archived block's hash
(the anchor) and checkpoints keep matching.
"""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Max, Min, Sum
from django.utils.translation import gettext as _

from audit.actions import Action
from audit.models import AuditArchive, AuditBlock
from audit.services.events import record
from lending.db import advisory_xact_lock
from lending.errors import DomainError


class ArchiveRefused(DomainError):
    code = "archive_refused"


def archivable_blocks(*, before: datetime) -> tuple[AuditBlock, AuditBlock] | None:
    """The first and last block of the run after the last archive whose events all happened
    before ``before``; None when there is none."""
    done = AuditArchive.objects.aggregate(through=Max("through_block"))["through"] or 0
    blocks = AuditBlock.objects.filter(number__gt=done).order_by("number")
    first = blocks.first()
    if first is None or first.last_event_at >= before:
        return None
    too_young = blocks.filter(last_event_at__gte=before).values_list("number", flat=True).first()
    last = blocks.filter(number__lt=too_young).last() if too_young else blocks.last()
    return first, last


def blocks_span(first: AuditBlock, last: AuditBlock) -> dict:
    """Event count and time span of the blocks ``first``..``last``."""
    return AuditBlock.objects.filter(number__gte=first.number, number__lte=last.number).aggregate(
        events=Sum("event_count"), since=Min("first_event_at"), until=Max("last_event_at")
    )


@transaction.atomic
def audit_events_archive(
    *, actor, first: AuditBlock, last: AuditBlock, archive_name: str, archive_sha256: str
) -> AuditArchive:
    """Remove the events of blocks ``first``..``last``, already exported to ``archive_name``."""
    advisory_xact_lock("audit-archive")
    done = AuditArchive.objects.aggregate(through=Max("through_block"))["through"] or 0
    if first.number != done + 1:
        raise ArchiveRefused(_("These blocks do not follow the last archive."))
    expected = blocks_span(first, last)["events"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL audit.archiving = 'on'")  # the trigger lets this one delete
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE id >= %s AND id <= %s",
            [first.first_event_id, last.last_event_id],
        )
        removed = cursor.rowcount
    if removed != expected:  # the table lost events before: the chain is broken, archive nothing
        raise ArchiveRefused(
            _(
                "Blocks %(first)s to %(last)s hold %(expected)s events, the table had %(removed)s: "
                "run verify_audit_chain."
            )
            % {"first": first.number, "last": last.number, "expected": expected, "removed": removed}
        )
    archive = AuditArchive.objects.create(
        archived_by=actor,
        through_block=last.number,
        anchor_hash=bytes(last.hash),
        first_event_id=first.first_event_id,
        last_event_id=last.last_event_id,
        event_count=removed,
        archive_name=archive_name,
        archive_sha256=archive_sha256,
    )
    data = {"blocks": [first.number, last.number], "events": removed, "archive_sha256": archive_sha256}
    record(action=Action.EVENTS_ARCHIVED, actor=actor, subject=archive, data=data)
    return archive
