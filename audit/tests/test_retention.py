"""Retention: events past AUDIT_RETENTION_DAYS are exported, then removed in whole blocks; the
rest of the chain, and checkpoints written before, still verify."""

import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from audit.actions import Action
from audit.models import AuditArchive, AuditBlock, AuditEvent
from audit.services import audit_events_seal
from audit.tests.test_chain import as_superuser, call_command_out, verify, write_events

pytestmark = pytest.mark.django_db(transaction=True)  # the export reads on a connection of its own


@pytest.fixture(autouse=True)
def _seal_at_once(settings):
    settings.AUDIT_SEAL_DELAY_SECONDS = 0
    settings.AUDIT_SEAL_BLOCK_EVENTS = 4


@pytest.fixture
def old_and_new():
    """Eight events from eleven years ago and two from today, sealed as blocks of 4, 4 and 2."""
    long_ago = timezone.now() - timedelta(days=11 * 365)
    with transaction.atomic():
        for n in range(8):
            AuditEvent.objects.create(
                occurred_at=long_ago + timedelta(minutes=n),
                actor_kind="system",
                action=Action.LOGOUT,
                data={"n": n},
            )
    write_events(2)
    assert audit_events_seal() == 10
    return list(AuditEvent.objects.order_by("pk"))


@pytest.fixture
def archivist():
    return StaffFactory(is_superuser=True)


def archive(archivist, folder) -> str:
    return call_command_out("archive_audit_events", "--as", archivist.username, "--output-dir", str(folder))


def test_old_blocks_are_exported_then_removed_and_the_rest_still_verifies(old_and_new, archivist, tmp_path):
    checkpoint = call_command_out("audit_checkpoint", "--dir", str(tmp_path)).split("checkpoint ")[1].strip()

    out = archive(archivist, tmp_path / "archive")

    assert "Archived 8 events (blocks 1-2)" in out
    assert list(AuditEvent.objects.filter(pk__lte=old_and_new[7].pk)) == []
    assert AuditBlock.objects.count() == 3  # the blocks stay
    (path,) = (tmp_path / "archive").iterdir()
    assert call_command_out("verify_export", str(path)).startswith("OK: 1 files, 8 rows")
    rows = zipfile.ZipFile(path).read("events.csv").decode("utf-8-sig").splitlines()[1:]
    assert [int(row.split(",")[0]) for row in rows] == [event.pk for event in old_and_new[:8]]

    assert verify().startswith("OK: 1 blocks, 2 events sealed")
    assert "OK" in call_command_out("verify_audit_chain", "--checkpoint", checkpoint)
    record = AuditArchive.objects.get()
    assert (record.through_block, record.event_count, record.archived_by) == (2, 8, archivist)
    assert bytes(record.anchor_hash) == bytes(AuditBlock.objects.get(number=2).hash)
    event = AuditEvent.objects.get(action="audit.events_archived")
    assert event.data == {"blocks": [1, 2], "events": 8, "archive_sha256": record.archive_sha256}
    assert json.loads(zipfile.ZipFile(path).read("manifest.json"))["payload"]["chain_head"]["block"] == 3

    assert "Nothing to archive" in archive(archivist, tmp_path / "again")  # the rest is young


def test_an_event_removed_after_the_archive_is_still_found(old_and_new, archivist, tmp_path):
    archive(archivist, tmp_path)
    as_superuser("DELETE FROM audit_auditevent WHERE id = %s", [old_and_new[9].pk])
    with pytest.raises(CommandError, match=f"block 3, event {old_and_new[9].pk}: missing"):
        verify()


def test_blocks_already_missing_an_event_are_not_archived(old_and_new, archivist, tmp_path):
    as_superuser("DELETE FROM audit_auditevent WHERE id = %s", [old_and_new[2].pk])
    with pytest.raises(CommandError, match="nothing removed"):
        archive(archivist, tmp_path)
    assert AuditEvent.objects.filter(pk__lte=old_and_new[7].pk).count() == 7
    assert not AuditArchive.objects.exists()


def test_only_staff_allowed_to_archive_may(old_and_new, tmp_path):
    with pytest.raises(CommandError, match="may not archive"):
        archive(StaffFactory(role="auditor"), tmp_path)
    assert AuditEvent.objects.count() == 10


def test_the_database_refuses_deleting_events_outside_an_archive(old_and_new):
    from django.db import DatabaseError, connection

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [old_and_new[0].pk])
