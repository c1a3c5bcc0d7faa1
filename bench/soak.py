"""Soak: mixed borrower and officer traffic for minutes on the full stack, nothing lost.

    .venv/bin/python bench/soak.py [--minutes 10] [--threads 8]

Builds a fresh database ``lending_bench_soak`` with the demo data, starts gunicorn (2 workers,
production settings), a Celery worker and beat on Redis database 13, and for ``--minutes``
sends borrower traffic (cards, loan, notifications and security pages; asking for unbind
codes, which queue SMS through the outbox; marking notifications read) and officer traffic
(review queue, audit events) from ``--threads`` threads. Prints requests, errors (5xx or no
answer; target 0), p99, the web and worker memory at start and end (target: flat within 10%),
then waits for the outbox and checks that every queued SMS was sent and, once every event is
sealed, that the audit chain verifies.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import BASE, sessions, start_gunicorn  # noqa: E402
from bench.production_env import environment, fresh_database, manage  # noqa: E402

DATABASE = "lending_bench_soak"
BROKER = "redis://127.0.0.1:6379/13"


class Browser:
    """One signed-in person: GETs and form POSTs with the session and CSRF cookies."""

    def __init__(self, cookie: str):
        self.cookies = dict([cookie.split("=", 1)])

    def _open(self, path: str, data: dict | None = None) -> int:
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{BASE.removeprefix('http://')}{path}",
        }
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(BASE + path, data=body, headers=headers)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(request, timeout=30)
        except urllib.error.HTTPError as exc:
            response = exc
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        response.read()
        return response.status

    def get(self, path: str) -> int:
        return self._open(path)

    def post(self, path: str, data: dict) -> int:
        if "csrftoken" not in self.cookies:
            self.get("/cards/")
        return self._open(path, {**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def rss_mb(pids) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total / 1024


def family(process: subprocess.Popen) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
    return [process.pid, *map(int, found.stdout.split())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    fresh_database(DATABASE)
    extra = {"CELERY_BROKER_URL": BROKER, "SMS_BACKEND": "accounts.sms.DevelopmentBackend"}
    os.environ.update(extra)
    env = {**environment(DATABASE, settings="bench.http_settings"), **extra}
    manage("migrate", env=env)
    manage("seed_demo", env=env, debug=True)
    manage("collectstatic", "--noinput", env=env)
    borrower_cookie, officer_cookie, pages = sessions()
    from accounts.models import SmsMessage
    from cards.models import Card
    from lending.models import Loan, OutboxMessage

    card = Card.objects.filter(user__phone="+8613800138000").first()
    loan = Loan.objects.first()
    celery = [sys.executable, "-m", "celery", "-A", "lending"]
    run_env = {**env, "DJANGO_DEBUG": "false"}
    schedule = tempfile.mkdtemp()
    web = start_gunicorn(env, workers=2)
    log = open(f"{schedule}/celery.log", "w")  # noqa: SIM115 - closed when they stop
    worker = subprocess.Popen(
        [*celery, "worker", "-c", "1", "-l", "WARNING"], cwd=ROOT, env=run_env, stdout=log, stderr=log
    )
    beat = subprocess.Popen(
        [*celery, "beat", "-l", "WARNING", "--schedule", f"{schedule}/beat"],
        cwd=ROOT,
        env=run_env,
        stdout=log,
        stderr=log,
    )
    latencies, errors, lock = [], [], threading.Lock()
    borrower_steps = [
        ("get", "/cards/", None),
        ("get", f"/loans/{loan.pk}/", None),
        ("get", "/notifications/", None),
        ("post", f"/cards/{card.pk}/code/", {"purpose": "card_unbind"}),
        ("get", "/accounts/security/", None),
        ("post", "/notifications/read/", {}),
    ]
    officer_steps = [("get", "/admin/audit/reviewcase/", None), ("get", "/admin/audit/auditevent/", None)]

    def traffic(person: Browser, steps, deadline: float) -> None:
        while time.monotonic() < deadline:
            for method, path, data in steps:
                began = time.perf_counter()
                try:
                    status = person.get(path) if method == "get" else person.post(path, data)
                except OSError as exc:
                    status = f"no answer: {exc}"
                with lock:
                    latencies.append(time.perf_counter() - began)
                    if not isinstance(status, int) or status >= 500:
                        errors.append((path, status))

    try:
        time.sleep(5)
        start = time.monotonic()
        deadline = start + args.minutes * 60
        threads = [
            threading.Thread(
                target=traffic,
                args=(Browser(officer_cookie), officer_steps, deadline)
                if n % 4 == 3
                else (Browser(borrower_cookie), borrower_steps, deadline),
            )
            for n in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        time.sleep(min(20, args.minutes * 30))
        memory_start = (rss_mb(family(web)), rss_mb(family(worker)))
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
        memory_end = (rss_mb(family(web)), rss_mb(family(worker)))
        for _ in range(120):  # the worker empties the queue
            if not OutboxMessage.objects.filter(status="pending").exists():
                break
            time.sleep(1)
        queued = SmsMessage.objects.exclude(status=SmsMessage.Status.SENT).count()
        pending = OutboxMessage.objects.filter(status="pending").count()
    finally:
        for process in (beat, worker, web):
            process.terminate()
            process.wait()
        log.close()
    p99 = statistics.quantiles(latencies, n=100)[-1] * 1000
    print(f"requests: {len(latencies):,} in {elapsed / 60:.1f} min ({len(latencies) / elapsed:.0f}/s)")
    print(f"errors: {len(errors)} (target 0){': ' + str(errors[:5]) if errors else ''}")
    print(f"p99: {p99:.0f} ms")
    for name, before, after in zip(("web", "worker"), memory_start, memory_end, strict=True):
        change = (after / before - 1) * 100
        print(f"{name} memory: {before:.0f} MB -> {after:.0f} MB ({change:+.1f}%, target within 10%)")
    sent = SmsMessage.objects.filter(status=SmsMessage.Status.SENT).count()
    print(f"SMS sent: {sent}, not sent: {queued}; outbox messages still pending: {pending}")
    time.sleep(61)  # every event older than AUDIT_SEAL_DELAY_SECONDS: seal them all, then verify
    subprocess.run(
        [sys.executable, "manage.py", "audit_checkpoint", "--dir", schedule],
        cwd=ROOT,
        env=run_env,
        check=True,
    )
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_chain"],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
    )
    print(f"audit chain: {(verify.stdout or verify.stderr).strip()}")


if __name__ == "__main__":
    main()
