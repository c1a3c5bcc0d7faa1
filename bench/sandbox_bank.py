"""The sandbox bank for a benchmark: its own server process with a fresh data directory and a
platform key pair made for the run (production settings refuse the development key)."""

import atexit
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bank_server import key_pair  # noqa: E402

_running: dict[Path, tuple[subprocess.Popen, dict]] = {}


def start(data: Path = ROOT / "var" / "bench-bank") -> tuple[subprocess.Popen, dict]:
    """The bank serving from ``data`` (emptied first), started once per process and stopped when
    it exits; returns the process and the variables that point the platform at it."""
    if data in _running:
        return _running[data]
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    platform_private, platform_public = key_pair(data, "platform")
    command = [sys.executable, "-m", "sandboxes.bank", "--port", "0", "--data-dir", str(data)]
    command += ["--platform-public-key", str(platform_public), "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    atexit.register(_stop, process)
    deadline = time.monotonic() + 30
    while not (data / "url").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the sandbox bank did not start")
        time.sleep(0.05)
    env = {
        "BANK_HTTP_URL": (data / "url").read_text(),
        "BANK_PLATFORM_PRIVATE_KEY": str(platform_private),
        "BANK_PUBLIC_KEY": str(data / "bank_public.pem"),
    }
    _running[data] = process, env
    return process, env


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)
