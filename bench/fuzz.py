"""The longer fuzz run: every portal form with 400 generated inputs each (the suite runs 15).

    .venv/bin/python bench/fuzz.py

Runs ``tests/security/test_fuzz.py`` with ``HYPOTHESIS_PROFILE=long`` on the test database and
prints the forms fuzzed, the inputs sent and the time; any server error or state change on a
refused input fails it with the falsifying example.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [str(ROOT / ".venv/bin/pytest"), "-q", "-p", "no:randomly", "tests/security/test_fuzz.py"],
        cwd=ROOT,
        env={**os.environ, "HYPOTHESIS_PROFILE": "long"},
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-500:]
    forms = result.stdout.count("PASSED") or summary.split(" passed")[0].split()[-1]
    print(f"fuzz: {summary}")
    print(f"forms: {forms}, up to 400 inputs each, {elapsed:.0f} s")
    if result.returncode:
        print(result.stdout[-4000:])
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
