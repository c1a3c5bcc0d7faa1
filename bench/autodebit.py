"""Auto-debit at scale: N due installments on PostgreSQL, one collection through the beat task's
path, the bank reached over HTTP: HttpBankGateway against the sandbox bank as its own server.

    .venv/bin/python bench/autodebit.py [--installments 100000] [--workers 2]

Starts ``python -m sandboxes.bank`` on a free port with a fresh data directory and a key pair made
for the run, seeds N agreements there (``/sandbox/seed``), and builds a fresh database
``lending_bench`` (dropped first) with N borrowers, each with a card whose mandate holds one of
those agreement numbers and a 3-month loan whose first installment is due. Then sends the beat
task ``collect_due_installments`` to real Celery workers (prefork, ``--workers`` processes, on
Redis database 14) and waits until every installment is settled. ``--workers 0`` runs the same
task eagerly in this process instead.

Prints the build time, the collection time, installments per second, the bank exchange's share
of it (seconds spent inside gateway calls, summed over the collecting processes, against their
busy time, and the bank process's CPU time), the bank's own ledger (succeeded debits, none
twice), and the memory of the collecting processes and of the bank sampled as the run
progresses, with their peaks (flat memory: the samples do not grow with the number of
installments collected). Target: 100,000
installments in under 60 s on 2 cores.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import sandbox_bank  # noqa: E402
from bench.production_env import environment, fresh_database  # noqa: E402
from bench.timed_gateway import gateway_seconds, gateway_seconds_reset  # noqa: E402

DATABASE = "lending_bench"
BROKER = "redis://127.0.0.1:6379/14"
DUE = date(2026, 12, 15)
BATCH = 5000


def start_bank(data: Path) -> tuple[subprocess.Popen, dict]:
    """The sandbox bank on a free port with its own data directory; the platform's settings for it."""
    bank, settings = sandbox_bank.start(data)
    settings = {
        **settings,
        "BANK_GATEWAY": "bench.timed_gateway.TimedHttpBankGateway",
        "BENCH_GATEWAY_TIMER": BROKER,
    }
    return bank, settings


def bench_environment(workers: int, bank_settings: dict) -> dict:
    """Production settings on the bench database and the bank; tasks go to the workers' broker, or
    run here."""
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["SMS_BACKEND"] = "accounts.sms.DatabaseBackend"
    os.environ.update(bank_settings)
    if workers:
        os.environ["CELERY_BROKER_URL"] = BROKER
    return environment(DATABASE)


def seed_bank(url: str, count: int) -> list[str]:
    """``count`` accounts at the bank with an active agreement each; their agreement numbers."""
    import httpx

    answer = httpx.post(f"{url}/sandbox/seed", json={"count": count}, timeout=600, trust_env=False)
    answer.raise_for_status()
    return answer.json()["agreements"]


def build(agreements: list[str]) -> None:
    """Borrowers with a repayment card whose mandate holds an agreement of the bank, and a due loan
    each."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from cards.models import Card, Mandate
    from lending.crypto import encrypt, fingerprint
    from lending.models import Installment, Loan
    from lending.services.loans import scheduled_installments

    count = len(agreements)
    password = make_password(None)
    reserved = encrypt("+8613800138000")
    for start in range(0, count, BATCH):
        numbers = range(start, min(start + BATCH, count))
        users = User.objects.bulk_create(
            User(phone=f"+86139{n:08d}", password=password, language="zh-hans") for n in numbers
        )
        cards = Card.objects.bulk_create(
            Card(
                user=user,
                bin="622202",
                last4="1234",
                bank_code="ICBC",
                card_type="debit",
                fingerprint=fingerprint(f"bench-card:{user.pk}"),
                holder_name="张三",
                reserved_phone_encrypted=reserved,
                reserved_phone_masked="138****8000",
                is_repayment=True,
            )
            for user in users
        )
        Mandate.objects.bulk_create(
            Mandate(card=card, agreement_version="bench", **Mandate.token_fields(agreement))
            for card, agreement in zip(cards, agreements[numbers.start : numbers.stop], strict=True)
        )
        loans = Loan.objects.bulk_create(
            Loan(
                borrower=user,
                product="phone",
                principal=Decimal("3000.00"),
                annual_rate=Decimal("0.12"),
                term_months=3,
            )
            for user in users
        )
        Installment.objects.bulk_create(
            installment for loan in loans for installment in scheduled_installments(loan, DUE)
        )
        print(f"  built {numbers.stop:>7} / {count}", end="\r", flush=True)
    print()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(parent: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def settled() -> int:
    from lending.models import DebitAttempt

    return DebitAttempt.objects.exclude(status=DebitAttempt.Status.PENDING).count()


class Memory:
    """RSS samples of the collecting processes and of the bank, and their peaks (VmHWM)."""

    def __init__(self, bank_pid: int):
        self.bank_pid, self.samples, self.peaks = bank_pid, [], {}

    def sample(self, done: int, collectors: list[int]) -> None:
        self.samples.append((done, [rss_mb(pid) for pid in collectors], rss_mb(self.bank_pid)))
        self.peak(collectors)

    def peak(self, collectors: list[int]) -> None:
        for pid in [*collectors, self.bank_pid]:
            self.peaks[pid] = max(self.peaks.get(pid, 0.0), rss_mb(pid, "VmHWM"))


def collect_with_workers(count: int, workers: int, env: dict, memory: Memory) -> float:
    from lending.celery import app
    from lending.tasks import collect_due_installments

    worker = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "lending",
            "worker",
            "--pool=prefork",
            f"--concurrency={workers}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "--prefetch-multiplier=64",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        app.control.purge()
        deadline = time.monotonic() + 60
        while len(worker_pids(worker.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # the pool is up and connected
        started = time.perf_counter()
        collect_due_installments.delay(day=DUE.isoformat())
        done, marks = 0, [count // 10, count // 2, count]
        while done < count:
            time.sleep(0.5)
            done = settled()
            memory.peak(worker_pids(worker.pid))
            while marks and done >= marks[0]:
                memory.sample(marks.pop(0), worker_pids(worker.pid))
            print(f"  settled {done:>7} / {count}", end="\r", flush=True)
        elapsed = time.perf_counter() - started
        print()
        return elapsed
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def collect_in_process(count: int, memory: Memory) -> float:
    from lending.tasks import collect_due_installments

    started = time.perf_counter()
    collect_due_installments(day=DUE.isoformat())
    elapsed = time.perf_counter() - started
    memory.sample(count, [os.getpid()])
    return elapsed


def bank_ledger(data: Path) -> tuple[int, int]:
    """(succeeded debits, order numbers debited more than once) in the bank's own books."""
    with sqlite3.connect(f"file:{data / 'bank.sqlite3'}?mode=ro", uri=True) as books:
        succeeded = books.execute("SELECT COUNT(*) FROM debits WHERE status = 'succeeded'").fetchone()[0]
        # order_no is the debits table's key: the same order number is never a second debit
        twice = books.execute(
            "SELECT COUNT(*) FROM (SELECT agreement_no FROM debits WHERE status = 'succeeded' "
            "GROUP BY agreement_no HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    return succeeded, twice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installments", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (0: in this process)")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="bench-bank-"))
    bank, bank_settings = start_bank(data)
    try:
        run(args, bank, bank_settings, data)
    finally:
        bank.terminate()
        bank.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def run(args, bank: subprocess.Popen, bank_settings: dict, data: Path) -> None:
    env = bench_environment(args.workers, bank_settings)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    fresh_database(DATABASE)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    agreements = seed_bank(bank_settings["BANK_HTTP_URL"], args.installments)
    print(f"bank: {len(agreements)} agreements seeded in {time.perf_counter() - started:.1f} s")
    build(agreements)
    del agreements
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics, as autovacuum keeps them in production
    print(f"build: {args.installments} due installments in {time.perf_counter() - started:.1f} s")

    gateway_seconds_reset(BROKER)
    memory = Memory(bank.pid)
    bank_cpu = cpu_seconds(bank.pid)
    if args.workers:
        elapsed = collect_with_workers(args.installments, args.workers, env, memory)
    else:
        elapsed = collect_in_process(args.installments, memory)
    in_gateway = gateway_seconds(BROKER)
    bank_cpu = cpu_seconds(bank.pid) - bank_cpu

    from lending.models import DebitAttempt

    succeeded = DebitAttempt.objects.filter(status="succeeded").count()
    debits, twice = bank_ledger(data)
    print(
        f"collected: {succeeded} of {args.installments} (the bank's books: {debits} succeeded debits, "
        f"{twice} agreements debited twice)"
    )
    rate = args.installments / elapsed
    print(f"collection: {elapsed:.1f} s, {rate:.0f} installments/s (target: 100,000 in < 60 s)")
    busy = elapsed * max(args.workers, 1)
    print(
        f"bank exchange: {in_gateway:.1f} s inside gateway calls, {in_gateway / busy:.0%} of the collecting "
        f"processes' {busy:.1f} s ({max(args.workers, 1)} x {elapsed:.1f} s); the bank process used "
        f"{bank_cpu:.1f} s of CPU"
    )
    for done, collectors, bank_mb in memory.samples:
        sizes = ", ".join(f"{mb:.0f} MB" for mb in collectors)
        print(f"memory after {done:>7} installments: collecting {sizes}; bank {bank_mb:.0f} MB")
    collectors = [mb for pid, mb in memory.peaks.items() if pid != bank.pid]
    print(
        "peak RSS: collecting "
        + ", ".join(f"{mb:.0f} MB" for mb in collectors)
        + f"; bank {memory.peaks.get(bank.pid, 0.0):.0f} MB"
    )
    connection.close()


if __name__ == "__main__":
    main()
