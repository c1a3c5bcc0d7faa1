"""The longer schemathesis run against the served OpenAPI document (the suite runs 8 per operation).

    .venv/bin/python bench/api_fuzz.py [--examples 200]

Runs ``api/tests/test_openapi_fuzz.py`` with API_FUZZ_EXAMPLES generated requests per operation
on the test database and prints the operations, the answers by status and the time; a 5xx, an
undocumented status or an answer outside its schema fails it with the falsifying request.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    result = subprocess.run(
        [str(ROOT / ".venv/bin/pytest"), "-q", "-s", "-n", "0", "api/tests/test_openapi_fuzz.py"],
        cwd=ROOT,
        env={**os.environ, "API_FUZZ_EXAMPLES": str(args.examples)},
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-500:]
    statuses = re.search(r"api fuzz statuses: (.*)", result.stdout)
    print(f"api fuzz: {summary}")
    print(f"examples per operation: {args.examples}")
    print(f"answers by status: {statuses.group(1) if statuses else 'none'}")
    print(f"time: {elapsed:.0f} s")
    if result.returncode:
        print(result.stdout[-6000:])
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
