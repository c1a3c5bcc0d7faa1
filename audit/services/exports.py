"""Auditors' exports: a small one streams straight to the browser, a large one runs as a job.

Every export is audited: who, which sources, filters and whether personal data was unmasked
(which needs its own permission). A job's archive is written to a temporary file and stored
only when complete, in the same transaction that marks the job done; a worker killed half way
leaves the job running, and the redelivered task starts it again from the beginning.
"""

import hashlib
import json
import logging
import tempfile
import time
import zipfile
from collections.abc import Iterator

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import Action
from audit.exporting.archive import archive_chunks
from audit.exporting.manifest import MANIFEST
from audit.exporting.sources import SOURCES
from audit.exporting.spec import ExportSpec
from audit.models import AuditExport
from audit.services.events import record
from lending.errors import DomainError
from lending.outbox import outbox_enqueue

logger = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0


class ExportRefused(DomainError):
    code = "export_refused"


def export_check_allowed(*, actor, spec: ExportSpec) -> None:
    """Raise ExportRefused unless ``actor`` may export everything ``spec`` asks for."""
    if not actor.has_perm("audit.add_auditexport"):
        raise ExportRefused(_("You do not have permission to export the audit trail."))
    refused = [
        str(SOURCES[name].label) for name in spec.sources if not actor.has_perm(SOURCES[name].permission)
    ]
    if refused:
        raise ExportRefused(
            _("You do not have permission to export: %(sources)s.") % {"sources": ", ".join(refused)}
        )
    if spec.unmasked and not actor.has_perm("audit.export_unmasked"):
        raise ExportRefused(_("Exporting personal data unmasked needs its own permission."))


def audit_export_stream(*, actor, spec: ExportSpec, progress=None) -> Iterator[bytes]:
    """Record the export, then hand over the archive's bytes as they are produced."""
    export_check_allowed(actor=actor, spec=spec)
    with transaction.atomic():
        record(action=Action.EXPORT_STREAMED, actor=actor, data=spec.as_json())
    return archive_chunks(spec, requested_by=actor.username, progress=progress)


@transaction.atomic
def audit_export_request(*, actor, spec: ExportSpec) -> AuditExport:
    export_check_allowed(actor=actor, spec=spec)
    export = AuditExport.objects.create(requested_by=actor, spec=spec.as_json())
    record(action=Action.EXPORT_REQUESTED, actor=actor, subject=export, data=spec.as_json())
    from audit.tasks import run_audit_export

    outbox_enqueue(task=run_audit_export, kwargs={"export_id": export.pk})
    return export


@transaction.atomic
def _export_start(*, export_id: int) -> AuditExport | None:
    """Mark the job running from the start (again, after a killed worker); None when settled.

    Job bookkeeping, like the outbox's attempts: audited are the request and the outcome.
    """
    export = AuditExport.objects.select_for_update().select_related("requested_by").get(pk=export_id)
    if export.status in (AuditExport.Status.DONE, AuditExport.Status.FAILED):
        return None
    export.status = AuditExport.Status.RUNNING
    export.started_at = timezone.now()
    export.rows_written = 0
    export.save(update_fields=["status", "started_at", "rows_written"])
    return export


@transaction.atomic
def _export_finish(*, export_id: int, archive, sha256: str) -> AuditExport:
    export = AuditExport.objects.select_for_update().get(pk=export_id)
    if export.status == AuditExport.Status.DONE:
        return export  # a duplicate delivery finished first
    manifest = json.loads(zipfile.ZipFile(archive).read(MANIFEST))["payload"]
    archive.seek(0)
    export.archive.save(f"audit-export-{export.pk}.zip", File(archive), save=False)
    export.status = AuditExport.Status.DONE
    export.finished_at = timezone.now()
    export.rows_written = export.rows_total = sum(file["rows"] for file in manifest["files"])
    export.archive_sha256 = sha256
    export.save()
    files = [{key: file[key] for key in ("name", "rows", "sha256")} for file in manifest["files"]]
    record(
        action=Action.EXPORT_COMPLETED,
        actor=None,
        subject=export,
        data={"files": files, "archive_sha256": sha256, "chain_head": manifest["chain_head"]},
    )
    return export


@transaction.atomic
def _export_fail(*, export_id: int, error: str) -> None:
    export = AuditExport.objects.select_for_update().get(pk=export_id)
    if export.status == AuditExport.Status.DONE:
        return
    export.status = AuditExport.Status.FAILED
    export.finished_at = timezone.now()
    export.error = error[:300]
    export.save(update_fields=["status", "finished_at", "error"])
    record(action=Action.EXPORT_FAILED, actor=None, subject=export, data={"error": export.error})


class _Progress:
    """Writes a job's progress at most once a second (outside any transaction: the admin sees it)."""

    def __init__(self, export_id: int):
        self.export_id, self.last = export_id, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_SECONDS:
            self.last = now
            AuditExport.objects.filter(pk=self.export_id).update(rows_written=done, rows_total=total)


def audit_export_run(*, export_id: int) -> AuditExport | None:
    """The job: write the whole archive to a temporary file, then store it and mark it done."""
    export = _export_start(export_id=export_id)
    if export is None:
        return None
    spec = ExportSpec.from_json(export.spec)
    chunks = archive_chunks(
        spec, requested_by=export.requested_by.username, export_id=export.pk, progress=_Progress(export.pk)
    )
    try:
        with tempfile.TemporaryFile() as archive:
            digest = hashlib.sha256()
            for chunk in chunks:
                archive.write(chunk)
                digest.update(chunk)
            archive.seek(0)
            return _export_finish(export_id=export.pk, archive=archive, sha256=digest.hexdigest())
    except Exception as exc:
        logger.exception("audit export %s failed", export.pk)
        _export_fail(export_id=export.pk, error=f"{type(exc).__name__}: {exc}")
        raise


@transaction.atomic
def audit_export_download(*, actor, export_id: int) -> AuditExport:
    """The finished job's archive for ``actor``, recorded; another's needs a permission."""
    export = AuditExport.objects.get(pk=export_id)
    if export.requested_by_id != actor.pk and not actor.has_perm("audit.download_any_auditexport"):
        raise ExportRefused(_("This export was requested by someone else."))
    if export.status != AuditExport.Status.DONE:
        raise ExportRefused(_("This export is not finished yet."))
    record(
        action=Action.EXPORT_DOWNLOADED,
        actor=actor,
        subject=export,
        data={"archive_sha256": export.archive_sha256},
    )
    return export
