"""``manage.py archive_audit_events --as USER --output-dir DIR [--before YYYY-MM-DD]``.

Audit events older than the retention period (``AUDIT_RETENTION_DAYS``) leave the table in whole
sealed blocks: first exported to DIR as a zip with a signed manifest (checked before anything is
removed), then removed in one transaction that records the archive. Keep the zip where the
auditors keep checkpoints; ``verify_export`` checks it, ``verify_audit_chain`` checks the rest.
"""

import hashlib
from datetime import datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.exporting.manifest import export_check
from audit.exporting.spec import ExportSpec
from audit.forms import user_named
from audit.services import archivable_blocks, audit_events_archive, audit_export_stream, blocks_span
from lending.errors import DomainError


class Command(BaseCommand):
    help = "Export, then remove, the audit events past retention (whole sealed blocks)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as", dest="staff", required=True, help="username of the staff member archiving"
        )
        parser.add_argument("--output-dir", required=True, type=Path)
        parser.add_argument(
            "--before",
            type=datetime.fromisoformat,
            help="archive events before this day (the retention period)",
        )

    def handle(self, *args, staff, output_dir, before=None, **options):
        actor = user_named(staff)
        if actor is None or not actor.has_perm("audit.add_auditarchive"):
            raise CommandError(f"{staff!r} may not archive audit events")
        day = (
            before.date() if before else timezone.localdate() - timedelta(days=settings.AUDIT_RETENTION_DAYS)
        )
        run = archivable_blocks(before=timezone.make_aware(datetime.combine(day, time.min)))
        if run is None:
            self.stdout.write(f"Nothing to archive: no sealed block has only events before {day}.")
            return
        first, last = run
        span = blocks_span(first, last)
        spec = ExportSpec(
            sources=("events",),
            date_from=timezone.localtime(span["since"]).date(),
            date_to=timezone.localtime(span["until"]).date(),
            first_event_id=first.first_event_id,
            last_event_id=last.last_event_id,
        )
        output_dir.mkdir(parents=True, exist_ok=True)
        path = output_dir / f"audit-archive-blocks-{first.number:09d}-{last.number:09d}.zip"
        digest = hashlib.sha256()
        with path.open("wb") as out:
            for chunk in audit_export_stream(actor=actor, spec=spec):
                out.write(chunk)
                digest.update(chunk)
        payload, problems = export_check(path)
        rows = payload["files"][0]["rows"] if payload else None
        if problems or rows != span["events"]:
            raise CommandError(
                f"the export does not hold the {span['events']} events; nothing removed: {problems}"
            )
        try:
            archive = audit_events_archive(
                actor=actor, first=first, last=last, archive_name=path.name, archive_sha256=digest.hexdigest()
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Archived {archive.event_count} events (blocks {first.number}-{last.number}) to {path}; "
            f"the chain now starts after block {last.number}."
        )
