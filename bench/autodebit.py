"""Auto-debit at scale: N due installments on PostgreSQL, one collection through the beat task's path.

    .venv/bin/python bench/autodebit.py [--installments 100000] [--workers 2]

Builds a fresh database ``lending_bench`` (dropped first) with N borrowers, each with a sandbox
card, mandate and bank account and a 3-month loan whose first installment is due; then sends the
beat task ``collect_due_installments`` to real Celery workers (prefork, ``--workers`` processes, on
Redis database 14) and waits until every installment is settled. ``--workers 0`` runs the same
task eagerly in this process instead.

Prints the build time, the collection time, installments per second, and the memory of the
collecting processes sampled as the run progresses (flat memory: the samples do not grow with
the number of installments collected). Target: 100,000 installments in under 60 s on 2 cores.
"""

import argparse
import os
import secrets
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.production_env import environment, fresh_database  # noqa: E402

DATABASE = "lending_bench"
BROKER = "redis://127.0.0.1:6379/14"
DUE = date(2026, 12, 15)
BATCH = 5000


def bench_environment(workers: int) -> dict:
    """Production settings on the bench database; tasks go to the workers' broker, or run here."""
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["SMS_BACKEND"] = "accounts.sms.DatabaseBackend"
    if workers:
        os.environ["CELERY_BROKER_URL"] = BROKER
    return environment(DATABASE)


def build(count: int) -> None:
    """Borrowers with a repayment card, mandate, bank account and agreement, and a due loan each."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from cards.models import Card, Mandate
    from cards.sandbox_bank.models import BankAccount, BankAgreement
    from lending.crypto import encrypt, fingerprint
    from lending.models import Installment, Loan
    from lending.services.loans import scheduled_installments

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
        tokens = [secrets.token_hex(24) for _ in cards]
        Mandate.objects.bulk_create(
            Mandate(card=card, agreement_version="bench", **Mandate.token_fields(token))
            for card, token in zip(cards, tokens, strict=True)
        )
        accounts = BankAccount.objects.bulk_create(
            BankAccount(
                card_hash=fingerprint(f"bench-account:{card.pk}"),
                last4="1234",
                holder_hash="bench",
                balance=Decimal("1000000.00"),
            )
            for card in cards
        )
        BankAgreement.objects.bulk_create(
            BankAgreement(token=token, account=account)
            for token, account in zip(tokens, accounts, strict=True)
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


def worker_pids(parent: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def settled() -> int:
    from lending.models import DebitAttempt

    return DebitAttempt.objects.exclude(status=DebitAttempt.Status.PENDING).count()


def collect_with_workers(count: int, workers: int, env: dict) -> tuple[float, list[tuple[int, list[float]]]]:
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
        samples = []
        started = time.perf_counter()
        collect_due_installments.delay(day=DUE.isoformat())
        done, marks = 0, [count // 10, count // 2, count]
        while done < count:
            time.sleep(0.5)
            done = settled()
            while marks and done >= marks[0]:
                samples.append((marks.pop(0), [rss_mb(pid) for pid in worker_pids(worker.pid)]))
            print(f"  settled {done:>7} / {count}", end="\r", flush=True)
        elapsed = time.perf_counter() - started
        print()
        return elapsed, samples
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def collect_in_process(count: int) -> tuple[float, list[tuple[int, list[float]]]]:
    from lending.tasks import collect_due_installments

    started = time.perf_counter()
    collect_due_installments(day=DUE.isoformat())
    elapsed = time.perf_counter() - started
    return elapsed, [(count, [rss_mb(os.getpid())])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installments", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (0: in this process)")
    args = parser.parse_args()

    env = bench_environment(args.workers)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    fresh_database(DATABASE)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build(args.installments)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics, as autovacuum keeps them in production
    print(f"build: {args.installments} due installments in {time.perf_counter() - started:.1f} s")

    if args.workers:
        elapsed, samples = collect_with_workers(args.installments, args.workers, env)
    else:
        elapsed, samples = collect_in_process(args.installments)

    from cards.sandbox_bank.models import BankDebit
    from lending.models import DebitAttempt

    succeeded = DebitAttempt.objects.filter(status="succeeded").count()
    debits = BankDebit.objects.filter(succeeded=True).count()
    print(f"collected: {succeeded} of {args.installments} (bank debits: {debits})")
    rate = args.installments / elapsed
    print(f"collection: {elapsed:.1f} s, {rate:.0f} installments/s (target: 100,000 in < 60 s)")
    for done, sizes in samples:
        print(f"memory after {done:>7} installments: " + ", ".join(f"{mb:.0f} MB" for mb in sizes))
    connection.close()


if __name__ == "__main__":
    main()
