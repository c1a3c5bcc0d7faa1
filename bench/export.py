"""Exporting audit events as CSV, through the admin's code path, against ``psql \\copy``.

    .venv/bin/python bench/export.py [--events 1000000]

Builds a fresh database ``lending_bench_export`` (dropped first) with N audit events, then
exports the first 100,000 and then all N as CSV through ``audit_export_stream`` (what the
admin's export form streams to the browser, here into a temporary file: masking in SQL, COPY,
zip, SHA-256, manifest), and the same rows with ``psql \\copy`` to CSV. Prints rows per
second, time to first byte, the ratio to psql and this process's peak memory during each
export (reset in between).
Targets: at most 2x the psql time, first byte under 1 s, peak memory under 100 MB and flat
from 100k to 1M rows.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.production_env import environment, fresh_database, manage  # noqa: E402

DATABASE = "lending_bench_export"
URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"

INSERT = """
INSERT INTO audit_auditevent (occurred_at, actor_kind, actor_label, action, subject_type, subject_id,
                              ip, user_agent, request_id, data)
SELECT CASE WHEN n <= 100000 THEN now() - interval '2 days' ELSE now() - interval '1 hour' END
       + n * interval '1 millisecond', 'borrower', '138****' || lpad((n %% 10000)::text, 4, '0'),
       'card.bound', 'cards.card', n::text, ('10.0.' || (n %% 250) || '.' || (n %% 200))::inet,
       'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) 中文', md5(n::text),
       jsonb_build_object('card', '**** ' || lpad((n %% 10000)::text, 4, '0'), 'bank', 'ICBC',
                          'review', false)
FROM generate_series(1, %s) AS n
"""
PSQL_COPY = (
    "\\copy (SELECT id, occurred_at, actor_id, actor_kind, actor_label, action, subject_type, subject_id, "
    "ip, user_agent, request_id, data FROM audit_auditevent ORDER BY id LIMIT {rows}) "
    "TO '/dev/null' WITH (FORMAT csv)"
)


def peak_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: restart the VmHWM (peak RSS) counter


def memory_mb(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def psql_seconds(rows: int) -> float:
    started = time.perf_counter()
    subprocess.run(["psql", URL, "-qc", PSQL_COPY.format(rows=rows)], check=True)
    return time.perf_counter() - started


def export_once(first_day_only: bool, spec_for, auditor) -> None:
    from audit.services import audit_export_stream

    peak_reset()
    started = time.perf_counter()
    first_byte = None
    size = 0
    with tempfile.TemporaryFile() as download:
        for chunk in audit_export_stream(actor=auditor, spec=spec_for(first_day_only)):
            if chunk and first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            download.write(chunk)
        seconds = time.perf_counter() - started
        manifest = json.loads(zipfile.ZipFile(download).read("manifest.json"))["payload"]
    rows = manifest["files"][0]["rows"]  # with the few events the bench itself caused
    psql = psql_seconds(rows)
    print(
        f"{rows:>9,} rows: {seconds:5.1f} s, {rows / seconds:9,.0f} rows/s, "
        f"first byte {first_byte * 1000:4.0f} ms, "
        f"zip {size / 2**20:5.0f} MB, peak memory {memory_mb():4.0f} MB; psql \\copy {psql:4.1f} s, "
        f"ratio {seconds / psql:.2f} (targets: ratio <= 2, first byte < 1 s, memory < 100 MB and flat)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    env = environment(DATABASE)
    fresh_database(DATABASE)
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from accounts.services import staff_create
    from audit.exporting.spec import ExportSpec

    # In another process, so this one's memory is the export's and Django's only.
    manage("migrate", env=env)
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [args.events])
        cursor.execute("VACUUM ANALYZE audit_auditevent")
    auditor = staff_create(actor=None, username="bench-auditor", role="auditor").user
    today = timezone.localdate()

    def spec_for(first_day_only: bool) -> ExportSpec:
        """The first 100,000 events happened two days ago, the rest today."""
        first = today - timedelta(days=2)
        return ExportSpec(sources=("events",), date_from=first, date_to=first if first_day_only else today)

    print(f"events: {args.events:,}")
    print(f"memory before exporting: {memory_mb('VmRSS'):.0f} MB")
    export_once(True, spec_for, auditor)
    export_once(False, spec_for, auditor)
    connection.close()


if __name__ == "__main__":
    main()
