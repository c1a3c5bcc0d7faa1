"""The app API against the pages it stands beside, under gunicorn with production settings, by wrk.

    .venv/bin/python bench/api_load.py [--seconds 10] [--connections 32] [--workers 2]

Builds a fresh database ``lending_bench_api`` with the demo data (a borrower with a card and a
loan), starts gunicorn (DEBUG off, sessions and the token request counts in Redis) and loads, in
one run: a bare "hello" view, the card list and loan detail pages with a verified borrower
session, and the same two as API endpoints with a device token. Prints requests/s, p99, CPU ms
per request (web workers and PostgreSQL) and each endpoint's throughput against its page's.
Target: each endpoint at least 1.5x its page.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import http_load  # noqa: E402
from bench.http_load import REPORT, cpu_seconds, cpu_spent, sessions  # noqa: E402
from bench.production_env import environment, fresh_database, manage  # noqa: E402

DATABASE = "lending_bench_api"
PORT = 8766
BASE = f"http://127.0.0.1:{PORT}"
TARGET = 1.5


def device_token() -> str:
    """A device token of the demo borrower, as after both factors."""
    from accounts.models import User
    from api.services import device_token_create

    borrower = User.objects.get(phone="+8613800138000")
    return device_token_create(user=borrower, device_id="bench", device_name="Bench")[1]


def load(path: str, header: str, seconds: int, connections: int, script: str, server) -> tuple:
    command = [
        "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script,
        "-H", header, "-H", "X-Forwarded-Proto: https", BASE + path,
    ]  # fmt: skip
    processes = (("-P", str(server.pid)), ("-x", "postgres"))
    before = [cpu_seconds(*which) for which in processes]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    after = [cpu_seconds(*which) for which in processes]
    rate, _p50, _p95, p99, errors = re.search(r"RESULT (\S+) (\d+) (\d+) (\d+) (\d+)", out).groups()
    requests = float(rate) * seconds
    web_ms, database_ms = (cpu_spent(b, a) * 1000 / requests for b, a in zip(before, after, strict=True))
    return float(rate), int(p99) / 1000, int(errors), web_ms, database_ms


def answers(path: str, header: str) -> None:
    name, _colon, value = header.partition(": ")
    request = urllib.request.Request(BASE + path, headers={name: value, "X-Forwarded-Proto": "https"})
    with urllib.request.urlopen(request) as response:
        if response.status != 200 or response.url != BASE + path:
            raise SystemExit(f"{path} answered {response.status} at {response.url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args()
    env = environment(DATABASE, settings="bench.http_settings")
    own = {
        "CACHE_URL": "redis://127.0.0.1:6379/13",  # not http_load.py's, which may run beside
        "API_TOKEN_REQUESTS_PER_MINUTE": "100000000",  # noqa: S105 - the limit would cut the load short
    }
    env.update(own)
    os.environ.update(own)
    run(env, args)


def run(env: dict, args) -> None:
    fresh_database(DATABASE)
    manage("migrate", env=env)
    manage("seed_demo", env=env, debug=True)
    manage("collectstatic", "--noinput", env=env)
    cookie, _officer, pages = sessions()
    loan_page = next(path for path in pages if re.fullmatch(r"/loans/\d+/", path))
    loan_id = loan_page.strip("/").split("/")[-1]
    bearer = f"Authorization: Bearer {device_token()}"
    session = f"Cookie: {cookie}"
    runs = {
        "/hello/": "",
        "/cards/": session,
        "/api/v1/cards": bearer,
        loan_page: session,
        f"/api/v1/loans/{loan_id}": bearer,
    }
    http_load.PORT, http_load.BASE = PORT, BASE
    server = http_load.start_gunicorn(env, args.workers)
    try:
        for path, header in runs.items():
            if header:
                answers(path, header)
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(REPORT)
            script.flush()
            results = {
                path: load(path, header or "X-Bench: 1", args.seconds, args.connections, script.name, server)
                for path, header in runs.items()
            }
    finally:
        server.terminate()
        server.wait()
    page_of = {"/api/v1/cards": "/cards/", f"/api/v1/loans/{loan_id}": loan_page}
    hello = results["/hello/"][0]
    header = ("path", "req/s", "p99 ms", "errors", "x hello", "CPU ms/req: web", "db", "x page")
    print("{:24} {:>8} {:>7} {:>6} {:>7} {:>16} {:>5} {:>7}".format(*header))
    for path, (rate, p99, errors, web_ms, database_ms) in results.items():
        page = page_of.get(path)
        versus = f"{rate / results[page][0]:7.2f}  (target {TARGET})" if page else ""
        figures = f"{rate:8.0f} {p99:7.1f} {errors:6d} {rate / hello:7.2f} {web_ms:16.2f} {database_ms:5.2f}"
        print(f"{path:24} {figures} {versus}")


if __name__ == "__main__":
    main()
