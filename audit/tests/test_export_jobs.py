"""Export jobs and the admin: progress, downloads only for the requester, clean restarts."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.exporting import archive as archive_module
from audit.exporting.manifest import export_check
from audit.exporting.spec import ExportSpec
from audit.models import AuditEvent, AuditExport
from audit.services import audit_export_request, exports, record_many
from audit.tasks import run_audit_export
from conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = timezone.localdate()
ADD = "/admin/audit/auditexport/add/"


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    folder = tmp_path / "exports"
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder},
        },
    }
    return folder


@pytest.fixture
def events():
    """Forty borrowers and three hundred events about them to export."""
    borrowers = [BorrowerFactory() for _ in range(40)]
    with transaction.atomic():
        record_many(
            actor=None,
            entries=[
                {"action": "access.viewed", "subject": borrowers[n % 40], "data": {"n": n}}
                for n in range(300)
            ],
        )
    return AuditEvent.objects.count()


def spec(**changes):
    return ExportSpec(
        sources=("events", "users"), date_from=TODAY - timedelta(days=1), date_to=TODAY, **changes
    )


def form(**changes):
    return {
        "sources": ["events"],
        "date_from": (TODAY - timedelta(days=1)).isoformat(),
        "date_to": TODAY.isoformat(),
        "format": "csv",
        **changes,
    }


def downloaded(response) -> zipfile.ZipFile:
    body = b"".join(response.streaming_content)
    return zipfile.ZipFile(io.BytesIO(body))


def test_small_export_downloads_at_once_from_the_admin(admin_login, events, tmp_path):
    auditor = StaffFactory(role="auditor")
    client = admin_login(auditor)
    page = client.get(ADD)
    assert page.status_code == 200 and 'name="unmasked"' not in page.text  # no permission, no choice

    response = client.post(ADD, form())
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-export-')
    path = tmp_path / "export.zip"
    path.write_bytes(b"".join(response.streaming_content))
    payload, problems = export_check(path)
    assert problems == [] and payload["requested_by"] == auditor.username
    assert AuditEvent.objects.filter(action="export.streamed", actor=auditor).count() == 1
    assert not AuditExport.objects.exists()


def test_form_errors_are_shown_and_nothing_is_exported(admin_login, events):
    client = admin_login(StaffFactory(role="auditor"))
    response = client.post(
        ADD, form(date_from=TODAY.isoformat(), date_to=(TODAY - timedelta(days=3)).isoformat())
    )
    assert response.status_code == 200 and response.context["form"].has_error("date_to")
    response = client.post(ADD, form(borrower="+8613999999999"))
    assert response.context["form"].has_error("borrower", "unknown_user")
    assert 'class="errorlist' in response.text
    response = client.post(ADD, form(subject_id="137 1111 0001"))  # would land in the audit trail
    assert response.status_code == 200 and response.context["form"].has_error("subject_id")
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


def test_support_cannot_open_the_export_form(admin_login):
    client = admin_login(StaffFactory(role="support"))
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, form()).status_code == 403


def test_large_export_runs_as_a_job_only_its_requester_downloads(admin_login, events, settings, client):
    settings.AUDIT_EXPORT_INLINE_ROWS = 10
    auditor = StaffFactory(role="auditor")
    response = admin_login(auditor).post(ADD, form())
    job = AuditExport.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/admin/audit/auditexport/{job.pk}/change/"
    )
    assert job.status == AuditExport.Status.DONE  # Celery runs eagerly in the tests: done at commit
    assert (
        job.rows_written == job.rows_total == AuditEvent.objects.filter(pk__lt=job_event(job).pk).count() + 1
    )

    page = client.get(f"/admin/audit/auditexport/{job.pk}/change/")
    assert "<progress" in page.text and 'value="100"' in page.text
    download = client.get(f"/admin/audit/auditexport/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert downloaded(download).read("events.csv").startswith("\ufeffid,".encode())
    assert (
        AuditEvent.objects.filter(action="export.downloaded", actor=auditor, subject_id=str(job.pk)).count()
        == 1
    )

    # Another auditor: not listed, not opened, not downloaded; nothing recorded for them.
    other = StaffFactory(role="auditor")
    client.logout()
    other_client = admin_login(other)
    assert list(other_client.get("/admin/audit/auditexport/").context["cl"].result_list) == []
    assert other_client.get(f"/admin/audit/auditexport/{job.pk}/change/").status_code == 404
    refused = other_client.get(f"/admin/audit/auditexport/{job.pk}/download/", follow=True)
    assert refused.redirect_chain == [("/admin/audit/auditexport/", 302)]
    assert [m.level_tag for m in refused.context["messages"]] == ["error"]
    assert not AuditEvent.objects.filter(action="export.downloaded", actor=other).exists()

    other.user_permissions.add(Permission.objects.get(codename="download_any_auditexport"))
    assert other_client.get(f"/admin/audit/auditexport/{job.pk}/download/").status_code == 200


def job_event(job):
    return AuditEvent.objects.get(action="export.requested", subject_id=str(job.pk))


def test_job_reports_progress_as_it_writes(events, monkeypatch):
    monkeypatch.setattr(archive_module, "CHUNK_BYTES", 512)
    monkeypatch.setattr(exports, "PROGRESS_EVERY_SECONDS", 0)
    seen = []
    real_update = exports._Progress.__call__

    def watch(self, done, total):
        real_update(self, done, total)
        seen.append(AuditExport.objects.values_list("rows_written", "rows_total").get(pk=self.export_id))

    monkeypatch.setattr(exports._Progress, "__call__", watch)
    job = audit_export_request(actor=StaffFactory(role="auditor"), spec=spec())

    job.refresh_from_db()
    assert job.status == AuditExport.Status.DONE
    assert len(seen) > 5, "progress is written while the job runs"
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert all(total == job.rows_total and done <= total for done, total in seen)


def test_a_failure_half_way_leaves_no_file_and_no_done_job(events, monkeypatch, export_dir):
    monkeypatch.setattr(archive_module, "CHUNK_BYTES", 512)
    real_batched = archive_module._batched

    def disk_full_after_two(lines):
        for number, chunk in enumerate(real_batched(lines)):
            if number == 2:
                raise OSError("no space left on device")
            yield chunk

    monkeypatch.setattr(archive_module, "_batched", disk_full_after_two)
    audit_export_request(actor=StaffFactory(role="auditor"), spec=spec())  # the job runs at commit

    job = AuditExport.objects.get()
    assert job.status == AuditExport.Status.FAILED and "no space left" in job.error
    assert not job.archive and not any(export_dir.rglob("*.zip"))
    assert AuditEvent.objects.filter(action="export.failed", subject_id=str(job.pk)).count() == 1


def test_a_job_whose_worker_died_starts_again_cleanly_and_settles_once(events, monkeypatch):
    auditor = StaffFactory(role="auditor")
    monkeypatch.setattr(exports, "outbox_enqueue", lambda **kwargs: None)  # the task is lost...
    job = audit_export_request(actor=auditor, spec=spec())
    exports._export_start(export_id=job.pk)  # ...after the worker started it and died
    AuditExport.objects.filter(pk=job.pk).update(rows_written=123)

    assert run_audit_export(job.pk) == "done"  # redelivered: from the beginning
    job.refresh_from_db()
    assert job.status == AuditExport.Status.DONE and job.rows_written == job.rows_total
    payload, problems = export_check(job.archive.path)
    assert problems == [] and payload["export_id"] == job.pk
    first_archive = job.archive.name

    assert run_audit_export(job.pk) == "settled already"  # delivered once more
    job.refresh_from_db()
    assert job.archive.name == first_archive
    assert AuditEvent.objects.filter(action="export.completed", subject_id=str(job.pk)).count() == 1
    completed = AuditEvent.objects.get(action="export.completed")
    assert completed.data["archive_sha256"] == job.archive_sha256
    assert [f["name"] for f in completed.data["files"]] == ["events.csv", "users.csv"]


@pytest.mark.redis
def test_job_runs_on_a_real_worker(celery_worker, events):
    job = audit_export_request(actor=StaffFactory(role="auditor"), spec=spec(format="jsonl"))
    wait_until(lambda: AuditExport.objects.get(pk=job.pk).status == AuditExport.Status.DONE)
    job.refresh_from_db()
    lines = zipfile.ZipFile(job.archive.path).read("events.jsonl").decode().splitlines()
    assert (
        len(lines)
        == json.loads(zipfile.ZipFile(job.archive.path).read("manifest.json"))["payload"]["files"][0]["rows"]
    )
