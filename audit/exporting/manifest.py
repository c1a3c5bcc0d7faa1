"""The signed manifest shipped in every export, and the offline check of an export against it.

``manifest.json`` holds the filters, who asked and when, the chain head at export time and,
per file, its row count, size and SHA-256; the whole is signed with the audit key (Ed25519), so
an auditor can prove with the public key alone that no file was changed, cut or swapped.
"""

import csv
import dataclasses
import hashlib
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from audit.signing import public_key_text, sign, signature_valid

MANIFEST = "manifest.json"
FORMATS = {
    "csv": "CSV: UTF-8 with BOM, one header row, RFC 4180 quoting, times with their UTC offset",
    "jsonl": "JSON Lines: UTF-8, one object per line, times in ISO 8601",
}


def manifest_file(*, spec, export_id, requested_by, started_at, files, chain_head) -> bytes:
    payload = {
        "manifest_version": 1,
        "export_id": export_id,
        "requested_by": requested_by,
        "started_at": started_at.isoformat(),
        "written_at": timezone.now().isoformat(),
        "filters": spec.as_json(),
        "personal_data": "unmasked" if spec.unmasked else "masked",
        "format": FORMATS[spec.format],
        "chain_head": _head(chain_head),
        "files": [dataclasses.asdict(file) for file in files],
    }
    body = {"payload": payload, "signature": sign(payload), "public_key": public_key_text()}
    return json.dumps(body, indent=2, ensure_ascii=False).encode() + b"\n"


def _head(row) -> dict | None:
    if row is None:
        return None
    number, digest, last_event_id = row
    return {
        "block": number,
        "hash": bytes(digest).hex(),
        "last_event_id": last_event_id,
        "note": "events with a higher id were not sealed into the chain yet at export time",
    }


class _Export:
    """An export as downloaded (the zip) or unpacked (a folder holding manifest.json)."""

    def __init__(self, path: Path):
        path = Path(path)
        if zipfile.is_zipfile(path):
            self.zip, self.folder = zipfile.ZipFile(path), None
        else:
            self.zip, self.folder = None, path.parent if path.name == MANIFEST else path

    def names(self) -> set[str]:
        if self.zip:
            return set(self.zip.namelist())
        return {p.name for p in self.folder.iterdir() if p.is_file()}

    def open(self, name: str):
        return self.zip.open(name) if self.zip else (self.folder / name).open("rb")


def _rows(fileobj, name: str) -> int:
    text = io.TextIOWrapper(fileobj, encoding="utf-8-sig", newline="")
    if name.endswith(".csv"):
        return max(sum(1 for _ in csv.reader(text)) - 1, 0)
    return sum(1 for line in text if line.strip())


def _sha256_and_size(fileobj) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := fileobj.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


# What a damaged export raises while it is read: a cut or changed zip (its directory, a
# member's compressed data or CRC), bytes that are not UTF-8 or JSON, a manifest of the wrong
# shape. Each is reported as a problem of the export, never raised.
# (zipfile raises NotImplementedError, a RuntimeError, for a changed version or method field.)
UNREADABLE = (
    OSError,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    RuntimeError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
)


def export_check(path: Path, *, public_key: str | None = None) -> tuple[dict | None, list[str]]:
    """The manifest's payload and every way the export at ``path`` differs from it."""
    try:
        export = _Export(path)
        with export.open(MANIFEST) as fileobj:
            body = json.load(fileobj)
        payload, signature = body["payload"], body["signature"]
        files = list(payload["files"])
    except UNREADABLE as exc:
        return None, [f"the manifest cannot be read: {exc!r}"]
    try:
        if not signature_valid(payload, signature, public_key):
            return payload, [
                "the manifest's signature is not valid: it was changed or signed with another key"
            ]
    except ImproperlyConfigured:
        return payload, ["no public key to check the signature with: pass --public-key"]
    except UNREADABLE as exc:
        return payload, [f"the manifest's signature cannot be read: {exc!r}"]
    try:
        return payload, _file_problems(export, files)
    except UNREADABLE as exc:
        return payload, [f"the export cannot be read: {exc!r}"]


def _file_problems(export: _Export, files: list[dict]) -> list[str]:
    problems = []
    listed = {file["name"] for file in files}
    for extra in sorted(export.names() - listed - {MANIFEST}) if export.zip else []:
        problems.append(f"{extra}: not listed in the manifest")
    for file in files:
        name = file["name"]
        if name not in export.names():
            problems.append(f"{name}: missing")
            continue
        try:
            with export.open(name) as fileobj:
                digest, size = _sha256_and_size(fileobj)
        except UNREADABLE as exc:
            problems.append(f"{name}: cannot be read ({exc!r})")
            continue
        if digest != file["sha256"] or size != file["bytes"]:
            problems.append(f"{name}: content differs from the manifest (SHA-256 or size)")
            continue
        with export.open(name) as fileobj:
            rows = _rows(fileobj, name)
        if rows != file["rows"]:
            problems.append(f"{name}: {rows} rows, the manifest says {file['rows']}")
    return problems
