"""Page throughput under gunicorn with production settings, loaded by wrk, against a bare view.

    .venv/bin/python bench/http_load.py [--seconds 10] [--connections 32]

Builds a fresh database ``lending_bench_http`` (dropped first) with the demo data
(``seed_demo``: a borrower with a card and a loan, an officer, an open review case), or takes
``--database`` as it is (``bench/seed_scale.py``'s), collects static files, starts gunicorn
(``--workers`` sync workers, 2 by default, DEBUG off, whitenoise, sessions read from Redis) and
loads with wrk: a bare "hello" view, the same view behind a verified borrower sign-in
(``/hello-borrower/``: session, user and OTP device, what every portal page pays first), each
borrower page with a verified borrower session, and the admin review queue and audit event
list with a verified officer session. Prints requests/s, p50/p95/p99 and the ratio to hello per
page, and the CPU milliseconds each request cost the web workers and PostgreSQL. Targets:
the verified sign-in at least 0.5 of hello; borrower pages at least 0.25 of hello with p99 under
100 ms at 32 connections; admin pages at least 0.10 (issue 22).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.production_env import environment, fresh_database, manage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "lending_bench_http"
PORT = 8765
FLOOR = "/hello-borrower/"  # "hello" behind the borrower's verified sign-in: what any portal page pays first
TARGETS = {False: "0.25, p99 < 100 ms", True: "0.10"}
BASE = f"http://127.0.0.1:{PORT}"
REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
                 + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %f %d %d %d %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(95), latency:percentile(99), errors))
end
"""


def sessions() -> tuple[str, str, dict]:
    """Cookies of a verified borrower session and a verified officer session (the demo people),
    and the page URLs."""
    import django

    django.setup()
    from django.conf import settings
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.test import Client
    from django.utils import timezone
    from django.utils.crypto import get_random_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from accounts.services.codes import login_device
    from accounts.session import REAUTH_KEY
    from lending.models import Loan

    def cookie(user, device_id) -> str:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device_id
        session[REAUTH_KEY] = timezone.now().isoformat()
        session.save()
        # A browser that has loaded a page before holds a CSRF cookie too (else every page makes one).
        csrf = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"

    borrower = User.objects.get(phone="+8613800138000")
    officer = User.objects.get(username="officer")
    loan = Loan.objects.get(borrower=borrower)
    pages = {
        "/accounts/": "borrower",
        "/cards/": "borrower",
        "/loans/": "borrower",
        f"/loans/{loan.pk}/": "borrower",
        f"/loans/{loan.pk}/repay/": "borrower",
        "/accounts/security/": "borrower",
        "/notifications/": "borrower",
        "/privacy/": "borrower",
        "/support/": "borrower",
        "/admin/audit/reviewcase/": "officer",
        "/admin/audit/auditevent/": "officer",
    }
    officer_device = TOTPDevice.objects.get(user=officer).persistent_id
    return cookie(borrower, login_device(borrower).persistent_id), cookie(officer, officer_device), pages


def check(path: str, cookie: str) -> str:
    """The page's own address (the audit list redirects to its default week), signed in."""
    headers = {"Cookie": cookie, "X-Forwarded-Proto": "https"}
    request = urllib.request.Request(BASE + path, headers=headers)
    with urllib.request.urlopen(request) as response:
        final = response.url.removeprefix(BASE)
        if response.status != 200 or not final.startswith(path):
            raise SystemExit(f"{path} answered {response.status} at {response.url}: not a signed-in page")
    return final


def cpu_seconds(*pgrep: str) -> dict[str, float]:
    """User and system CPU used so far by each process pgrep finds (Linux /proc)."""
    found = subprocess.run(["pgrep", *pgrep], capture_output=True, text=True).stdout.split()
    used = {}
    for pid in found:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> float:
    """What the processes alive at the end used in between (a process that ended is left out)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def load(path: str, cookie: str, seconds: int, connections: int, script: str, server) -> tuple[float, ...]:
    """wrk's figures for ``path``, and the CPU milliseconds per request spent by the web workers
    and by PostgreSQL while it ran."""
    command = [
        "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script,
        "-H", f"Cookie: {cookie}", "-H", "X-Forwarded-Proto: https", BASE + path,
    ]  # fmt: skip
    processes = (("-P", str(server.pid)), ("-x", "postgres"))
    before = [cpu_seconds(*which) for which in processes]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    after = [cpu_seconds(*which) for which in processes]
    rate, p50, p95, p99, errors = re.search(r"RESULT (\S+) (\d+) (\d+) (\d+) (\d+)", out).groups()
    requests = float(rate) * seconds
    web_ms, database_ms = (cpu_spent(b, a) * 1000 / requests for b, a in zip(before, after, strict=True))
    return float(rate), int(p50) / 1000, int(p95) / 1000, int(p99) / 1000, int(errors), web_ms, database_ms


def start_gunicorn(env, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "lending.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{BASE}/healthz")
            return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--database", help="load an existing database (bench/seed_scale.py's) instead of a fresh demo one"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="PATH", help="only these pages (with hello and the sign-in, to compare)"
    )
    args = parser.parse_args()
    env = environment(args.database or DATABASE, settings="bench.http_settings")
    if not args.database:
        fresh_database(DATABASE)
        manage("migrate", env=env)
        manage("seed_demo", env=env, debug=True)
    manage("collectstatic", "--noinput", env=env)
    borrower, officer, pages = sessions()
    server = start_gunicorn(env, args.workers)
    try:
        cookies = {"borrower": borrower, "officer": officer}
        chosen = {path: who for path, who in pages.items() if not args.only or path in args.only}
        pages = {check(path, cookies[who]): who for path, who in chosen.items()}
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(REPORT)
            script.flush()
            pages = {"/hello/": None, FLOOR: "borrower", **pages}
            results = {
                path: load(path, cookies.get(who, ""), args.seconds, args.connections, script.name, server)
                for path, who in pages.items()
            }
    finally:
        server.terminate()
        server.wait()
    hello = results["/hello/"][0]
    header = ("page", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "x hello", "CPU ms/req: web", "db")
    print("{:34} {:>8} {:>7} {:>7} {:>7} {:>6} {:>7} {:>16} {:>5}  target".format(*header))
    for path, (rate, p50, p95, p99, errors, web_ms, database_ms) in results.items():
        target = {"/hello/": "", FLOOR: "0.5"}.get(path, TARGETS[path.startswith("/admin/")])
        figures = f"{rate:8.0f} {p50:7.1f} {p95:7.1f} {p99:7.1f} {errors:6d} {rate / hello:7.2f}"
        print(f"{path.split('?')[0]:34} {figures} {web_ms:16.2f} {database_ms:5.2f}  {target}")


if __name__ == "__main__":
    main()
