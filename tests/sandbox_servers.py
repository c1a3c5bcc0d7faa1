"""What the test session's sandboxes (tests/bank_server.py, tests/faceid_server.py) share: starting
one as its own process on a free port until it answers, and its unsigned admin endpoints."""

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def running(module: str, data: Path, *options: str, name: str) -> Iterator[tuple[str, Path]]:
    """``python -m module --port 0 --data-dir data *options`` until it answers at the URL it writes
    to ``data/url``; yields that URL and its log, and stops it afterwards."""
    log = data / "server.log"
    command = [sys.executable, "-m", module, "--port", "0", "--data-dir", str(data), *options]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    url_file, deadline = data / "url", time.monotonic() + 30
    while not (url_file.exists() and answers(url_file.read_text())):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{name} did not start:\n{log.read_text()}")
        time.sleep(0.05)
    try:
        yield url_file.read_text(), log
    finally:
        process.terminate()
        process.wait(timeout=10)


class SandboxAdmin:
    """The admin endpoints (unsigned JSON) of a sandbox at ``self.url``, through ``self.client``."""

    url: str
    client: httpx.Client

    def admin(self, method: str, path: str, payload: dict | None = None) -> dict:
        response = self.client.request(method, f"{self.url}{path}", json=payload)
        assert response.status_code == 200, response.text
        return response.json()

    def reset(self) -> None:
        self.admin("POST", "/sandbox/reset")
