"""The outside parties for a benchmark, each its own server process with a fresh data directory:
the sandbox bank with a platform key pair made for the run, and the identity provider's
simulator with a key of its own (production settings refuse the development keys)."""

import atexit
import secrets
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
    _wait_for_url(process, data, "the sandbox bank")
    env = {
        "BANK_HTTP_URL": (data / "url").read_text(),
        "BANK_PLATFORM_PRIVATE_KEY": str(platform_private),
        "BANK_PUBLIC_KEY": str(data / "bank_public.pem"),
    }
    _running[data] = process, env
    return process, env


def start_faceid(data: Path = ROOT / "var" / "bench-faceid") -> tuple[subprocess.Popen, dict]:
    """The FaceID simulator serving from ``data`` (emptied first), once per process; returns the
    process and the variables that point the platform at it."""
    if data in _running:
        return _running[data]
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    env = {
        "FACEID_SECRET_ID": "AKIDbench" + "0" * 27,
        "FACEID_SECRET_KEY": secrets.token_urlsafe(24),
        "FACEID_RULE_ID": "1",
    }
    command = [sys.executable, "-m", "sandboxes.faceid", "--port", "0", "--data-dir", str(data), "--quiet"]
    # "--option=value": a random key may begin with "-", which argparse would take for an option
    command += [f"--secret-id={env['FACEID_SECRET_ID']}", f"--secret-key={env['FACEID_SECRET_KEY']}"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    atexit.register(_stop, process)
    _wait_for_url(process, data, "the identity simulator")
    env["FACEID_ENDPOINT"] = (data / "url").read_text()
    _running[data] = process, env
    return process, env


def _wait_for_url(process: subprocess.Popen, data: Path, name: str) -> None:
    deadline = time.monotonic() + 30
    while not (data / "url").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{name} did not start")
        time.sleep(0.05)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)
