"""Does password reset answer a registered number and a new one in the same time? (no enumeration)

    .venv/bin/python bench/reset_timing.py [--tries 60]

Builds a fresh database ``lending_bench_reset`` with production settings and a real Redis broker
(``redis://127.0.0.1:6379/13``, as the outbox publishes there after commit), then posts the reset
form alternately for a registered number and a number without an account, each try a number of
its own and a client IP of its own (so no send limit answers), through Django's test client.
Prints the median and p95 of each and the Mann-Whitney U test's p-value for a difference.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os  # noqa: E402

from bench.production_env import environment, manage  # noqa: E402
from bench.sandbox_people import django_on, p95  # noqa: E402

DATABASE = "lending_bench_reset"


def mann_whitney_p(first: list[float], second: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test, normal approximation (no ties expected)."""
    ranked = sorted([(value, 0) for value in first] + [(value, 1) for value in second])
    rank_sum = sum(rank for rank, (_, group) in enumerate(ranked, start=1) if group == 0)
    n1, n2 = len(first), len(second)
    u = rank_sum - n1 * (n1 + 1) / 2
    mean, sd = n1 * n2 / 2, (n1 * n2 * (n1 + n2 + 1) / 12) ** 0.5
    return 2 * (1 - statistics.NormalDist().cdf(abs(u - mean) / sd))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=60)
    args = parser.parse_args()
    django_on(DATABASE)
    manage("collectstatic", "--noinput", env=environment(DATABASE))  # a refused form is a page
    import redis
    from django.test import Client

    from accounts.models import User
    from lending.celery import app

    redis.Redis.from_url("redis://127.0.0.1:6379/13").flushdb()
    app.conf.update(broker_url="redis://127.0.0.1:6379/13", task_always_eager=False)
    times = {"registered": [], "new": []}
    for n in range(args.tries):
        User.objects.create_borrower(f"+86137{n:08d}")
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    for n in range(args.tries):
        for kind, phone in (("registered", f"137{n:08d}"), ("new", f"136{n:08d}")):
            started = time.perf_counter()
            response = client.post(
                "/accounts/password/reset/",
                {"phone": phone},
                REMOTE_ADDR=f"10.{n // 250}.{n % 250}.{len(kind)}",
            )
            times[kind].append((time.perf_counter() - started) * 1000)
            if response.status_code != 302:
                raise SystemExit(f"the reset form refused {kind} number {n}: {response.status_code}")
    for kind, values in times.items():
        print(f"{kind:>10}: median {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms")
    p_value = mann_whitney_p(times["registered"], times["new"])
    print(f"Mann-Whitney p = {p_value:.2f} (below 0.05: a difference)")
    redis.Redis.from_url("redis://127.0.0.1:6379/13").flushdb()
    os.environ.pop("CELERY_BROKER_URL", None)


if __name__ == "__main__":
    main()
