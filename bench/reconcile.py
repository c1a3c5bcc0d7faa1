"""Reconciliation at scale: a settlement date with N debits (1,000,000) matched through the HTTP
adapter against the sandbox bank server's signed statement file.

    .venv/bin/python bench/reconcile.py [--lines 1000000]

Builds a fresh database ``lending_bench_reconcile`` (dropped first) with production settings:
N/12 borrowers, each with a repayment card, its mandate and a 12-month loan, and one succeeded
debit attempt per installment, all sent on yesterday's settlement date (set-based SQL; the
mandates' encrypted tokens through COPY). Starts the sandbox bank as its own server (like
tests/bank_server.py) on a data directory of its own and writes the same debits and agreements
into its books directly through its SQLite schema (sandboxes/bank/store.py: this script only;
the platform never imports the sandbox), then plants three differences (missing, amount,
unknown) through its admin endpoint.

The reconciliation itself runs in a child process (``--match``), so its peak memory is its own:
the statement downloaded and checked, every line matched, our successes the file lacks and the
agreements compared. Prints the elapsed time, lines per second, the breaks found, the process's
memory as the run progresses (flat: it does not grow with the lines matched) and its peak RSS
(VmHWM), each next to its target: 1,000,000 lines in under 30 s.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.production_env import environment, fresh_database  # noqa: E402

DATABASE = "lending_bench_reconcile"
WORK = ROOT / "var" / "bench-reconcile"
TARGET_SECONDS = 30

USERS = """
INSERT INTO accounts_user (password, is_superuser, phone, is_staff, is_active, date_joined,
                           frozen_reason, language, session_epoch, email, unread_notifications)
SELECT '!', false, '+86139' || lpad(n::text, 8, '0'), false, true, now() - interval '400 days',
       '', 'zh-hans', 0, '', 0
FROM generate_series(1, %(borrowers)s) AS n
"""
CARDS = """
INSERT INTO cards_card (user_id, bin, last4, bank_code, card_type, fingerprint, holder_name,
                        reserved_phone_encrypted, reserved_phone_masked, status, is_repayment, bound_at)
SELECT id, '622202', '1234', 'ICBC', 'debit', md5('card:' || id), '张三', 'bench',
       '139****' || right(phone, 4), 'active', true, now() - interval '300 days'
FROM accounts_user
"""
LOANS = """
INSERT INTO lending_loan (borrower_id, product, principal, annual_rate, term_months, status, disbursed_at)
SELECT id, 'phone', 3000 + (id %% 50) * 1000, 0.1200, 12, 'active', now() - interval '30 days'
FROM accounts_user
"""
INSTALLMENTS = """
INSERT INTO lending_installment (loan_id, number, due_date, principal_due, interest_due, paid_amount,
                                 status, soft_failures)
SELECT l.id, k, %(day)s::date, round(l.principal / 12, 2), round(l.principal * 0.01, 2),
       round(l.principal / 12, 2) + round(l.principal * 0.01, 2), 'paid', 0
FROM lending_loan AS l CROSS JOIN generate_series(1, 12) AS k
"""
# Sent through the settlement date (Beijing time), settled two seconds later.
ATTEMPTS = """
INSERT INTO lending_debitattempt (installment_id, card_id, mandate_id, number, amount, idempotency_key,
                                  status, gateway_reference, failure_code, trigger, created_at,
                                  settled_at, resent_count, payment_ref)
SELECT i.id, c.id, m.id, 1, i.paid_amount, 'installment-' || i.id || '-attempt-1', 'succeeded',
       'd_' || md5('ref:' || i.id), '', 'schedule', d.at, d.at + interval '2 seconds', 0, ''
FROM lending_installment AS i
JOIN lending_loan AS l ON l.id = i.loan_id
JOIN cards_card AS c ON c.user_id = l.borrower_id
JOIN cards_mandate AS m ON m.card_id = c.id
CROSS JOIN LATERAL (SELECT %(day)s::date::timestamp AT TIME ZONE 'Asia/Shanghai'
                           + (i.id %% 86000) * interval '1 second' AS at) AS d
WHERE i.id <= (SELECT min(id) FROM lending_installment) + %(lines)s - 1
"""
BANK_DEBITS = """
SELECT a.idempotency_key, 'a_bench' || lpad(a.card_id::text, 12, '0'), (a.amount * 100)::bigint,
       a.gateway_reference, extract(epoch FROM a.created_at)::float8
FROM lending_debitattempt AS a ORDER BY a.id
"""


def key_pair(directory: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = directory / "platform_private.pem", directory / "platform_public.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def bank_start(data: Path, platform_public: Path) -> tuple[subprocess.Popen, str]:
    """The sandbox bank as its own process on a free port (as tests/bank_server.py starts it)."""
    command = [sys.executable, "-m", "sandboxes.bank", "--port", "0", "--data-dir", str(data)]
    command += ["--platform-public-key", str(platform_public), "--quiet"]
    log = open(data.parent / "bank.log", "wb")  # noqa: SIM115 - kept open for the process's life
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url_file, deadline = data / "url", time.monotonic() + 30
    while not url_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the sandbox bank did not start: see {data.parent / 'bank.log'}")
        time.sleep(0.05)
    return process, url_file.read_text()


def platform_seed(lines: int, day) -> None:
    from django.db import connection

    from cards.models import Mandate

    borrowers = -(-lines // 12)
    with connection.cursor() as cursor:
        for name, sql in (
            ("borrowers", USERS),
            ("cards", CARDS),
            ("loans", LOANS),
            ("installments", INSTALLMENTS),
        ):
            started = time.perf_counter()
            cursor.execute(sql, {"borrowers": borrowers, "day": day})
            print(f"  {name}: {cursor.rowcount} in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        cursor.execute("SELECT id, bound_at FROM cards_card ORDER BY id")
        cards = cursor.fetchall()
        with cursor.copy(
            "COPY cards_mandate (card_id, token_encrypted, token_fingerprint, status, agreement_version, "
            "created_at) FROM STDIN"
        ) as copy:
            for card_id, bound_at in cards:
                fields = Mandate.token_fields(f"a_bench{card_id:012d}")
                copy.write_row(
                    (
                        card_id,
                        fields["token_encrypted"],
                        fields["token_fingerprint"],
                        "active",
                        "bench",
                        bound_at,
                    )
                )
        print(f"  mandates: {len(cards)} in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        cursor.execute(ATTEMPTS, {"day": day, "lines": lines})
        print(f"  debit attempts: {cursor.rowcount} in {time.perf_counter() - started:.1f} s", flush=True)
        cursor.execute("VACUUM ANALYZE")


def bank_seed(database: Path, day) -> int:
    """The same debits and agreements in the bank's own books (its store's schema, written directly)."""
    import psycopg

    from cards.reconcile import settle_window

    start = settle_window(day)[0].timestamp()
    bank = sqlite3.connect(database, isolation_level=None, timeout=60)
    bank.execute("BEGIN IMMEDIATE")
    count = 0
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DATABASE}") as pg:
        cards = pg.execute("SELECT id FROM cards_card ORDER BY id").fetchall()
        bank.executemany(
            "INSERT INTO accounts (id, card_hash, last4, holder_hash, balance_fen, opened_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                (card_id, f"bench-{card_id}", "1234", "bench", 10**12, start - 86400 * 300)
                for (card_id,) in cards
            ),
        )
        bank.executemany(
            "INSERT INTO agreements (agreement_no, account_id, signed_at) VALUES (?, ?, ?)",
            ((f"a_bench{card_id:012d}", card_id, start - 86400 * 300) for (card_id,) in cards),
        )
        with pg.cursor(name="debits") as rows:
            rows.itersize = 50_000
            rows.execute(BANK_DEBITS)
            batch = []
            for order_no, agreement_no, fen, ref, at in rows:
                batch.append((order_no, agreement_no, fen, "succeeded", "", 0, ref, at, day.isoformat()))
                if len(batch) >= 50_000:
                    bank.executemany("INSERT INTO debits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
                    count, batch = count + len(batch), []
            bank.executemany("INSERT INTO debits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            count += len(batch)
    bank.execute("COMMIT")
    bank.close()
    return count


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    """This process's peak RSS (VmHWM; ``getrusage``'s ru_maxrss would carry over the parent's
    peak across fork and exec)."""
    return rss_mb("VmHWM")


def match(day) -> None:
    """The child: one reconciliation, its figures as JSON on the last line."""
    import django

    django.setup()
    from audit.context import system_job
    from cards import reconcile
    from cards.services.reconciliation import reconciliation_run

    samples, seen, phases = [], [0], []
    for name in ("debits_match", "successes_missing", "agreements_match"):  # peak memory after each
        phase = getattr(reconcile, name)

        def timed(*args, _phase=phase, _name=name, **kwargs):
            started, before = time.perf_counter(), peak_mb()
            result = _phase(*args, **kwargs)
            phases.append((_name, time.perf_counter() - started, before, peak_mb()))
            return result

        setattr(reconcile, name, timed)

    def progress(lines: int, total: int) -> None:
        seen[0] += lines
        if seen[0] % 100_000 < lines or seen[0] == total:
            samples.append((seen[0], round(rss_mb(), 1)))

    before = rss_mb()
    started = time.perf_counter()
    with system_job("bench-reconciliation"):
        run = reconciliation_run(settle_date=day, progress=progress)
    elapsed = time.perf_counter() - started
    figures = {
        "elapsed": elapsed,
        "status": run.status,
        "error": run.error,
        "lines": run.lines,
        "matched": run.matched,
        "breaks": run.breaks,
        "agreements": run.agreements,
        "rss_before": before,
        "peak_rss": peak_mb(),
        "phases": phases,
        "samples": samples,
        "kinds": sorted(run.break_set.values_list("kind", flat=True)),
    }
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--match", help=argparse.SUPPRESS)  # the child: reconcile this date
    args = parser.parse_args()
    if args.match:
        environment(DATABASE)
        match(datetime.fromisoformat(args.match).date())
        return

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "bank").mkdir(parents=True)
    private, public = key_pair(WORK)
    bank, url = bank_start(WORK / "bank", public)
    try:
        os.environ.update(
            {
                "BANK_GATEWAY": "cards.gateways.http.HttpBankGateway",
                "BANK_HTTP_URL": url,
                "BANK_HTTP_TIMEOUT": "3,60",
                "BANK_PLATFORM_PRIVATE_KEY": str(private),
                "BANK_PUBLIC_KEY": str(WORK / "bank" / "bank_public.pem"),
            }
        )
        environment(DATABASE)
        import django

        django.setup()
        import httpx
        from django.core.management import call_command
        from django.db import connection

        from cards.reconcile import BEIJING

        day = datetime.now(BEIJING).date() - timedelta(days=1)
        fresh_database(DATABASE)
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        print(f"build: {args.lines} debits on {day}", flush=True)
        platform_seed(args.lines, day)
        connection.close()
        seeded = time.perf_counter()
        count = bank_seed(WORK / "bank" / "bank.sqlite3", day)
        print(f"  the bank's books: {count} debits in {time.perf_counter() - seeded:.1f} s")
        with connection.cursor() as cursor:  # two different debits: a success left out, another amount
            cursor.execute("SELECT idempotency_key FROM lending_debitattempt ORDER BY created_at, id LIMIT 2")
            targets = {"missing": cursor.fetchone()[0], "amount": cursor.fetchone()[0]}
        connection.close()
        for kind in ("missing", "amount", "unknown"):
            plant = {"fault": "statement_difference", "date": day.isoformat(), "kind": kind}
            if kind in targets:
                plant["order_no"] = targets[kind]
            httpx.post(f"{url}/sandbox/faults", json=plant).raise_for_status()
        print(f"build: {time.perf_counter() - started:.1f} s; 3 differences planted")

        child = subprocess.run(
            [sys.executable, __file__, "--match", day.isoformat()],
            cwd=ROOT,
            env=os.environ,
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        bank.terminate()
        bank.wait(timeout=10)
    report(figures, args.lines)


def report(figures: dict, lines: int) -> None:
    elapsed = figures["elapsed"]
    print(f"run: {figures['status']} {figures['error']}".rstrip())
    print(
        f"lines: {figures['lines']} (matched {figures['matched']}), agreements compared: "
        f"{figures['agreements']}, breaks: {figures['breaks']} {figures['kinds']} (planted: 3)"
    )
    target = TARGET_SECONDS * lines / 1_000_000
    print(f"reconciliation: {elapsed:.1f} s (target: < {target:.1f} s for {lines:,} lines)")
    rate, target_rate = figures["lines"] / elapsed, 1_000_000 / TARGET_SECONDS
    print(f"throughput: {rate:,.0f} lines/s (target: > {target_rate:,.0f} lines/s)")
    print(f"memory before the run: {figures['rss_before']:.0f} MB")
    for done, mb in figures["samples"]:
        print(f"memory after {done:>9} lines: {mb:.0f} MB")
    for name, seconds, before, after in figures["phases"]:
        print(f"  {name}: {seconds:.1f} s, peak RSS {before:.0f} MB before it, {after:.0f} MB after")
    print(f"peak RSS: {figures['peak_rss']:.0f} MB (target: flat, not growing with the lines)")


if __name__ == "__main__":
    main()
