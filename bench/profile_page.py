"""Where one page's CPU goes: cProfile of N requests through Django's test client on the
production settings (those of bench/http_load.py), signed in as its demo borrower or officer,
or as the borrower's app with a device token (``--who app``, for /api/v1/ paths).

    .venv/bin/python bench/profile_page.py /cards/ [--requests 200] [--who borrower|officer|app]
        [--sort tottime|cumulative] [--limit 40] [--database lending_bench_http]

Reads the database bench/http_load.py built (run that first; ``--database`` for another one).
The first request is made before profiling starts, so imports and caches warmed once are left
out, and then what is loaded is frozen out of the garbage collector's sight, as lending/wsgi.py
does in a worker. The figure printed is the mean wall time per request under the profiler, to
compare runs; ``--gc`` adds the collector's own time per request.
"""

import argparse
import cProfile
import gc
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_load import DATABASE, sessions  # noqa: E402
from bench.production_env import environment  # noqa: E402


class CollectorClock:
    """A gc callback adding up the CPU time of every collection."""

    def __init__(self):
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


def page_client(path: str, who: str):
    """A test client signed in as ``who`` (the demo borrower or officer, the borrower's app, or
    nobody) and the page's own address (the audit list redirects to its default week), its first
    request made. Call after ``environment()``."""
    borrower, officer, _ = sessions()
    from django.test import Client

    cookie = {"borrower": borrower, "officer": officer}.get(who, "")
    headers = {"HTTP_COOKIE": cookie, "HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "127.0.0.1"}
    if who == "app":
        from bench.api_load import device_token

        headers["HTTP_AUTHORIZATION"] = f"Bearer {device_token()}"
    client = Client(**headers)
    first = client.get(path, follow=True)
    if first.status_code != 200:
        raise SystemExit(f"{path} answered {first.status_code}")
    query = first.request["QUERY_STRING"]
    return client, first.request["PATH_INFO"] + (f"?{query}" if query else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--who", choices=("borrower", "officer", "app", "anonymous"), default="borrower")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--plain", action="store_true", help="only the mean time, without the profiler")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="profile this process's CPU time, not wall time (waits on PostgreSQL and Redis left out)",
    )
    parser.add_argument("--gc", action="store_true", help="also print the collector's time per request")
    args = parser.parse_args()
    environment(args.database, settings="bench.http_settings")
    client, path = page_client(args.path, args.who)
    gc.freeze()
    collector = CollectorClock()
    if args.gc:
        gc.callbacks.append(collector)
    profile = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    started = time.perf_counter()
    if not args.plain:
        profile.enable()
    for _ in range(args.requests):
        client.get(path)
    profile.disable()
    spent = (time.perf_counter() - started) / args.requests * 1000
    under = "without" if args.plain else "under"
    print(f"{path}: {spent:.2f} ms per request {under} the profiler ({args.requests} requests)")
    if args.gc:
        print(f"garbage collector: {collector.seconds / args.requests * 1000:.2f} ms per request")
    if not args.plain:
        pstats.Stats(profile).strip_dirs().sort_stats(args.sort).print_stats(args.limit)


if __name__ == "__main__":
    main()
