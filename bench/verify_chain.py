"""Sealing and verifying the audit chain over N events on PostgreSQL.

    .venv/bin/python bench/verify_chain.py [--events 1000000]

Builds a fresh database ``lending_bench_chain`` (dropped first), inserts N audit events with one
SQL statement, seals them all (``audit_events_seal``, as beat does) and verifies them
(``verify_audit_chain``'s code path). Prints events per second for sealing, the verification
time and the peak memory of this process. Targets: sealing above 50,000 events/s,
verification of 1,000,000 events under 5 s.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.production_env import environment, fresh_database  # noqa: E402

DATABASE = "lending_bench_chain"

INSERT = """
INSERT INTO audit_auditevent (occurred_at, actor_kind, actor_label, action, subject_type, subject_id,
                              user_agent, request_id, data)
SELECT now() - interval '1 hour' + n * interval '1 millisecond', 'system', 'autodebit',
       'debit.succeeded', 'lending.debitattempt', n::text, '', md5(n::text),
       jsonb_build_object('attempt', 1, 'card', '**** 1234', 'n', n)
FROM generate_series(1, %s) AS n
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    environment(DATABASE)
    fresh_database(DATABASE)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from audit.services import audit_events_seal
    from audit.verify import chain_verify

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [args.events])
        cursor.execute("VACUUM ANALYZE audit_auditevent")
    print(f"events: {args.events}")

    settings.AUDIT_SEAL_DELAY_SECONDS = 0
    started = time.perf_counter()
    sealed = audit_events_seal()
    sealing = time.perf_counter() - started
    print(f"sealing: {sealed} events in {sealing:.1f} s, {sealed / sealing:,.0f} events/s (target > 50,000)")

    started = time.perf_counter()
    verdict = chain_verify()
    verifying = time.perf_counter() - started
    state = "OK" if verdict.broken is None else f"BROKEN {verdict.broken}"
    print(f"verification: {state}, {verdict.events} events in {verifying:.1f} s (target < 5 s for 1,000,000)")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    connection.close()


if __name__ == "__main__":
    main()
