"""``verify_export`` on a damaged export says BROKEN and why, never with a traceback."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from audit.exporting.spec import ExportSpec
from audit.services import audit_export_stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def export_zip():
    today = timezone.localdate()
    spec = ExportSpec(sources=("events",), date_from=today - timedelta(days=1), date_to=today)
    return b"".join(audit_export_stream(actor=StaffFactory(role="auditor"), spec=spec))


def verdict(path) -> str:
    """OK or BROKEN: anything else (a traceback) fails the test."""
    try:
        call_command("verify_export", str(path), stdout=io.StringIO())
    except CommandError as broken:
        assert str(broken).startswith("BROKEN: "), broken
        return "BROKEN"
    return "OK"


def test_every_single_flipped_byte_is_reported_not_raised(export_zip, tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(export_zip)
    assert verdict(path) == "OK"
    verdicts = []
    for position in range(len(export_zip)):
        damaged = bytearray(export_zip)
        damaged[position] ^= 0xFF
        path.write_bytes(bytes(damaged))
        verdicts.append(verdict(path))
    # Most bytes matter (a byte of the zip's own bookkeeping, such as a timestamp, may not).
    assert verdicts.count("BROKEN") > len(export_zip) // 2


def test_a_truncated_export_is_reported_not_raised(export_zip, tmp_path):
    path = tmp_path / "export.zip"
    for length in (
        0,
        1,
        30,
        len(export_zip) // 3,
        len(export_zip) // 2,
        len(export_zip) - 22,
        len(export_zip) - 1,
    ):
        path.write_bytes(export_zip[:length])
        assert verdict(path) == "BROKEN", length


@pytest.mark.parametrize(
    "manifest",
    [
        b"{not json",
        b"\xff\xfe not utf-8",
        b"[]",
        b'{"payload": 1, "signature": 2}',
        b'{"payload": {"files": 3}, "signature": "x"}',
        b'{"payload": {"files": [{"name": 1}]}, "signature": null}',
    ],
)
def test_a_bad_manifest_is_reported_not_raised(export_zip, tmp_path, manifest):
    folder = tmp_path / "unpacked"
    zipfile.ZipFile(io.BytesIO(export_zip)).extractall(folder)
    (folder / "manifest.json").write_bytes(manifest)
    assert verdict(folder / "manifest.json") == "BROKEN"
    rezipped = tmp_path / "rezipped.zip"
    with zipfile.ZipFile(rezipped, "w") as archive:
        for member in folder.iterdir():
            archive.write(member, member.name)
    assert verdict(rezipped) == "BROKEN"


def test_a_missing_file_is_reported(tmp_path):
    assert verdict(tmp_path / "nowhere.zip") == "BROKEN"
    (tmp_path / "manifest.json").write_text(json.dumps({"payload": {}, "signature": ""}))
    assert verdict(tmp_path / "manifest.json") == "BROKEN"
