"""The bank exchange of a collection run: N debits through HttpBankGateway.debit_many against the
sandbox bank running as its own server.

    .venv/bin/python bench/bank_http.py [--debits 100000] [--per-call 500]

Starts ``python -m sandboxes.bank`` on a free port with a fresh data directory (var/bench-bank)
and a key pair made for the run, seeds one agreement per debit through its admin endpoint, then
sends the debits ``--per-call`` at a time (a collection task's chunk: one batch request of 500
each), as collection does. Prints the exchange's time and rate, and the memory of this process
and of the bank sampled as the run progresses (flat: the samples do not grow with the number
of debits sent). Target: a small share of the 60 s a 100,000-installment collection may take.
"""

import argparse
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import sandbox_bank  # noqa: E402

DATA = ROOT / "var" / "bench-bank"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_bank() -> tuple[subprocess.Popen, str]:
    process, env = sandbox_bank.start(DATA)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "lending.settings", "LOG_LEVEL": "WARNING", **env})
    return process, env["BANK_HTTP_URL"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debits", type=int, default=100_000)
    parser.add_argument("--per-call", type=int, default=500)
    args = parser.parse_args()
    bank, url = start_bank()
    try:
        import django
        import httpx

        django.setup()
        from cards.gateways.base import DebitRequest
        from cards.gateways.http import HttpBankGateway

        started = time.perf_counter()
        seeded = httpx.post(f"{url}/sandbox/seed", json={"count": args.debits}, timeout=600).json()
        tokens = seeded["agreements"]
        print(f"seeded {len(tokens):,} agreements at the bank in {time.perf_counter() - started:.1f} s")

        gateway, succeeded, samples = HttpBankGateway(), 0, []
        calls = range(0, args.debits, args.per_call)
        sample_every = max(1, len(calls) // 8)
        started = time.perf_counter()
        for number, start in enumerate(calls):
            requests = [
                DebitRequest(token, Decimal("123.45"), f"installment-{start + i}-attempt-1")
                for i, token in enumerate(tokens[start : start + args.per_call])
            ]
            results = gateway.debit_many(requests)
            succeeded += sum(1 for result in results.values() if result and result.succeeded)
            if number % sample_every == 0:
                samples.append((rss_mb(os.getpid()), rss_mb(bank.pid)))
        elapsed = time.perf_counter() - started
        samples.append((rss_mb(os.getpid()), rss_mb(bank.pid)))
        print(f"debits: {args.debits:,} in {len(calls)} calls of {args.per_call}; succeeded: {succeeded:,}")
        print(
            f"bank exchange: {elapsed:.1f} s ({args.debits / elapsed:,.0f} debits/s, "
            f"{elapsed / len(calls) * 1000:.0f} ms per batch) (target: a small share of 60 s)"
        )
        print("memory, this process MB: " + " ".join(f"{mine:.0f}" for mine, _ in samples))
        print("memory, the bank MB:     " + " ".join(f"{theirs:.0f}" for _, theirs in samples))
    finally:
        bank.terminate()
        bank.wait(timeout=10)


if __name__ == "__main__":
    main()
