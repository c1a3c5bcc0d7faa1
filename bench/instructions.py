"""Instructions the web process executes per page, counted by valgrind's callgrind.

    .venv/bin/python bench/instructions.py [PATH ...] [--requests 10] [--database lending_bench_http]

The same figure on every run, where wall or CPU time on a shared 2-core machine moves by 15-30 %
from one run to the next (bench/http_load.py's figures): for telling whether a change to a page
made it cheaper. Each page runs in its own process under callgrind, through Django's test client on
the production settings (bench/profile_page.py's way, signed in as the demo borrower or officer);
the first requests warm it, what is loaded is frozen out of the collector's sight as in a worker
(lending/wsgi.py), then only the next ``--requests`` are counted. PostgreSQL's and Redis's own work
is not in the count, nor gunicorn's. Prints millions of instructions per request and the ratio to
/hello/ (the issue 22 targets: borrower pages 0.25, the sign-in 0.5, the admin lists 0.10).

Needs valgrind and a C compiler (a two-line shim that starts and stops the count is built once).
Reads the database bench/http_load.py built (run that first) unless ``--database``.
"""

import argparse
import ctypes
import gc
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_load import DATABASE, FLOOR, TARGETS  # noqa: E402
from bench.production_env import environment  # noqa: E402
from bench.profile_page import page_client  # noqa: E402

SHIM = """
#include <valgrind/callgrind.h>
void count_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT; }
void count_stop(void) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_STOP_INSTRUMENTATION; }
"""


def shim() -> Path:
    """The shared library whose two functions tell callgrind to count and to stop."""
    built = Path(tempfile.gettempdir()) / "lending-callgrind-shim.so"
    if not built.exists():
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "shim.c"
            source.write_text(SHIM)
            subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", built, source], check=True)
    return built


def counted(path: str, who: str, requests: int, database: str) -> float:
    """Millions of instructions per request for ``path``, from a child process under callgrind."""
    with tempfile.TemporaryDirectory() as scratch:
        child = [sys.executable, __file__, "--child", path, who, str(requests), database]
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
             f"--callgrind-out-file={scratch}/callgrind.out", *child],
            capture_output=True, text=True,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found or found.group(1) == "0":
        raise SystemExit(f"{path}: the counted run failed\n{done.stdout}{done.stderr[-3000:]}")
    return int(found.group(1)) / requests / 1e6


def child(path: str, who: str, requests: int, database: str) -> None:
    """Runs in the counted process: sign in, warm up, count ``requests`` requests."""
    environment(database, settings="bench.http_settings")
    client, path = page_client(path, who)
    for _ in range(3):
        if client.get(path).status_code != 200:
            raise SystemExit(f"{path} did not answer 200")
    gc.collect()
    gc.freeze()
    count = ctypes.CDLL(str(shim()))
    count.count_start()
    for _ in range(requests):
        client.get(path)
    count.count_stop()


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        path, who, requests, database = sys.argv[2:6]
        return child(path, who, int(requests), database)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="pages to count (default: bench/http_load.py's)")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    shim()
    environment(args.database, settings="bench.http_settings")
    from bench.http_load import sessions

    pages = {"/hello/": "borrower", FLOOR: "borrower", **sessions()[2]}
    if args.paths:
        signed_in = {
            path: pages.get(path, "officer" if path.startswith("/admin/") else "borrower")
            for path in args.paths
        }
        pages = {"/hello/": "borrower", **signed_in}
    hello = None
    print(f"{'page':38} {'M instructions':>14} {'x hello':>8}  target")
    for path, who in pages.items():
        millions = counted(path, who, args.requests, args.database)
        hello = hello or millions
        target = "0.5" if path == FLOOR else TARGETS.get(who == "officer", "") if path != "/hello/" else ""
        print(f"{path:38} {millions:14.2f} {hello / millions:8.2f}  {target}", flush=True)


if __name__ == "__main__":
    main()
