"""The export archive: a zip with one file per source and a signed ``manifest.json``, streamed.

Everything is read in one snapshot, so the counts, the chain head and the rows agree. On
PostgreSQL the snapshot is a read-only REPEATABLE READ transaction on a connection of its own
(the replica's when configured) and the rows leave the database by ``COPY ... TO STDOUT``,
masked by SQL: no row becomes a Python object, memory stays flat and the speed is close to
``psql \\copy``. Other databases (SQLite in development) go through the ORM.
"""

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router
from django.db.models import QuerySet
from django.utils import timezone

from audit.exporting.manifest import manifest_file
from audit.exporting.sources import SOURCES, Source
from audit.exporting.spec import ExportSpec
from audit.models import AuditBlock
from lending.routers import replica_reads

BOM = "\ufeff".encode()
CHUNK_BYTES = 256 * 1024
# JSON Lines by COPY: csv format with quote and delimiter bytes that JSON text never holds raw.
RAW_LINES = "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'"


@dataclass
class ExportedFile:
    name: str
    rows: int
    bytes: int = 0
    sha256: str = ""


class _Pipe(io.RawIOBase):
    """A write-only, unseekable stream for the zip; ``drain`` hands over what was written."""

    def __init__(self):
        self._chunks = []

    def writable(self):
        return True

    def write(self, data):
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _header(source: Source, fmt: str) -> bytes:
    if fmt != "csv":
        return b""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(source.columns)
    return BOM + out.getvalue().encode()


class _PostgresSnapshot:
    def __init__(self, alias: str):
        wrapper = connections[alias]
        self.alias = alias
        self.connection = wrapper.get_new_connection(wrapper.get_connection_params())
        self.connection.read_only = True
        self.connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.connection.execute("SELECT set_config('TimeZone', %s, true)", [settings.TIME_ZONE])

    def _sql(self, queryset: QuerySet):
        return queryset.query.get_compiler(using=self.alias).as_sql()

    def count(self, queryset: QuerySet) -> int:
        sql, params = self._sql(queryset.order_by())
        # ``sql`` is compiled by Django with every value a parameter.
        return self.connection.execute(f"SELECT count(*) FROM ({sql}) AS rows", params).fetchone()[0]  # noqa: S608 - Django-compiled SQL

    def chain_head(self):
        return self.connection.execute(
            "SELECT number, hash, last_event_id FROM audit_auditblock ORDER BY number DESC LIMIT 1"
        ).fetchone()

    def lines(self, source: Source, queryset: QuerySet, fmt: str) -> Iterator[bytes]:
        sql, params = self._sql(queryset)  # every value a parameter; column names are constants
        if fmt == "csv":
            statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        else:
            pairs = ", ".join(f"'{column}', rows.c{i}" for i, column in enumerate(source.columns))
            objects = f"SELECT json_build_object({pairs}) FROM ({sql}) AS rows"  # noqa: S608 - Django-compiled SQL
            statement = f"COPY ({objects}) TO STDOUT WITH ({RAW_LINES})"
        with self.connection.cursor() as cursor, cursor.copy(statement, params) as copy:
            yield from copy

    def close(self):
        self.connection.close()  # the read-only transaction ends with it


class _OrmSnapshot:
    """Development databases: the same querysets, formatted in Python."""

    def __init__(self, alias: str):
        self.alias = alias

    def count(self, queryset: QuerySet) -> int:
        return queryset.using(self.alias).count()

    def chain_head(self):
        return (
            AuditBlock.objects.using(self.alias)
            .order_by("-number")
            .values_list("number", "hash", "last_event_id")
            .first()
        )

    def lines(self, source: Source, queryset: QuerySet, fmt: str) -> Iterator[bytes]:
        for row in queryset.using(self.alias).iterator(chunk_size=2000):
            if fmt == "csv":
                out = io.StringIO()
                csv.writer(out, lineterminator="\n").writerow([_csv_text(value) for value in row])
                yield out.getvalue().encode()
            else:
                line = json.dumps(
                    dict(zip(source.columns, row, strict=True)), cls=DjangoJSONEncoder, ensure_ascii=False
                )
                yield line.encode() + b"\n"

    def close(self):
        pass


def _csv_text(value) -> str:
    """A value as PostgreSQL's COPY writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return timezone.localtime(value).isoformat(sep=" ")
    return str(value)


@contextmanager
def snapshot():
    with replica_reads():
        alias = router.db_for_read(AuditBlock) or "default"
    kind = _PostgresSnapshot if connections[alias].vendor == "postgresql" else _OrmSnapshot
    reader = kind(alias)
    try:
        yield reader
    finally:
        reader.close()


def _file_chunks(reader, source: Source, rows: QuerySet, fmt: str) -> Iterator[tuple[bytes, int]]:
    """One file's bytes (header first) in chunks, with how many rows each holds about."""
    yield _header(source, fmt), 0
    # Closed before the snapshot, even on an error: an open COPY holds the connection.
    with closing(reader.lines(source, rows, fmt)) as lines:
        yield from _batched(lines)


def _batched(lines: Iterator[bytes]) -> Iterator[tuple[bytes, int]]:
    """Lines joined into chunks of about CHUNK_BYTES, with how many line ends each holds."""
    batch, size = [], 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            data = b"".join(batch)
            yield data, data.count(b"\n")
            batch, size = [], 0
    if batch:
        data = b"".join(batch)
        yield data, data.count(b"\n")


def archive_chunks(
    spec: ExportSpec,
    *,
    requested_by: str,
    export_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[bytes]:
    """The zip archive of ``spec``, as bytes while it is written.

    ``progress(rows_done, rows_total)`` is told after each chunk (rows counted by line ends,
    so a value spanning lines may run it ahead; it never passes the total).
    """
    pipe = _Pipe()
    started_at = timezone.now()
    with snapshot() as reader:
        sources = [(SOURCES[name], SOURCES[name].queryset(spec)) for name in spec.sources]
        files = [ExportedFile(f"{source.name}.{spec.format}", reader.count(rows)) for source, rows in sources]
        total = sum(file.rows for file in files)
        head = reader.chain_head()
        done = 0
        with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for (source, rows), file in zip(sources, files, strict=True):
                digest = hashlib.sha256()
                chunks = closing(_file_chunks(reader, source, rows, spec.format))
                with archive.open(file.name, "w", force_zip64=True) as entry, chunks as file_chunks:
                    for data, lines in file_chunks:
                        digest.update(data)
                        entry.write(data)
                        file.bytes += len(data)
                        done = min(done + lines, total)
                        if progress:
                            progress(done, total)
                        yield pipe.drain()
                file.sha256 = digest.hexdigest()
            manifest = manifest_file(
                spec=spec,
                export_id=export_id,
                requested_by=requested_by,
                started_at=started_at,
                files=files,
                chain_head=head,
            )
            archive.writestr("manifest.json", manifest)
    if progress:
        progress(total, total)
    yield pipe.drain()
