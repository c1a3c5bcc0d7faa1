"""The sandbox bank as a real server for the test session (a pytest plugin of the root conftest).

``bank_server`` starts ``python -m sandboxes.bank`` once per test process (each xdist worker
has its own) on a free port, with its own data directory and a key pair made for the session;
``http_bank`` points the HTTP adapter's settings at it and empties its books and faults first.
"""

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sandbox_servers import SandboxAdmin, running


def key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = directory / f"{name}_private.pem", directory / f"{name}_public.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@dataclass
class BankServer(SandboxAdmin):
    """A running sandbox bank and its admin endpoints (sandboxes/bank/README.md)."""

    url: str
    data_dir: Path
    platform_private_key: Path
    bank_public_key: Path
    log: Path
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10, trust_env=False))

    def environment(self) -> dict[str, str]:
        """The variables that point a platform process of its own (manage.py, a worker) here."""
        return {
            "BANK_HTTP_URL": self.url,
            "BANK_PLATFORM_PRIVATE_KEY": str(self.platform_private_key),
            "BANK_PUBLIC_KEY": str(self.bank_public_key),
        }

    def arm(self, fault: str, **options) -> dict:
        return self.admin("POST", "/sandbox/faults", {"fault": fault, **options})["armed"]

    def notify(self, url: str) -> None:
        self.admin("POST", "/sandbox/notify-url", {"url": url})

    def texts(self, sign_id: str = "") -> list[dict]:
        return self.admin("GET", f"/sandbox/sms?sign_id={sign_id}")["messages"]

    def code(self, sign_id: str) -> str:
        """The code the bank texted for this sign-up, read from its own SMS list."""
        [text] = self.texts(sign_id)
        return text["code"]

    def latest_code(self) -> str:
        """The code in the newest text the bank sent."""
        texts = self.texts()
        assert texts, "the bank sent no code"
        return texts[0]["code"]

    def agreement(self, agreement_no: str) -> dict:
        return self.admin("GET", f"/sandbox/agreements/{agreement_no}")

    def agreements(self, **where) -> list[dict]:
        """Every agreement at the bank, newest first; ``status="active"`` and the like filter it."""
        rows = self.admin("GET", "/sandbox/agreements")["agreements"]
        return [row for row in rows if all(row[key] == value for key, value in where.items())]

    def notices(self) -> list[dict]:
        return self.admin("GET", "/sandbox/notices")["notices"]

    def debits(self, **where) -> list[dict]:
        """The bank's own ledger, oldest first; ``status="succeeded"`` and the like filter it."""
        rows = self.admin("GET", "/sandbox/debits")["debits"]
        return [row for row in rows if all(row[key] == value for key, value in where.items())]

    @contextlib.contextmanager
    def travel(self, moment, *, tick: bool = False):
        """time_machine.travel on our side with the bank's clock moved along (each side refuses a
        clock 5 minutes off); what it yields shifts and moves both."""
        with time_machine.travel(moment, tick=tick) as traveller:
            clock = _Clock(self, traveller)
            clock.sync()
            try:
                yield clock
            finally:
                self.admin("POST", "/sandbox/clock", {"offset_seconds": 0})


@dataclass
class _Clock:
    bank: BankServer
    traveller: time_machine.Traveller

    def sync(self) -> None:
        self.bank.admin("POST", "/sandbox/clock", {"now": time.time()})

    def shift(self, delta) -> None:
        self.traveller.shift(delta)
        self.sync()

    def move_to(self, moment) -> None:
        self.traveller.move_to(moment)
        self.sync()


@pytest.fixture(scope="session")
def bank_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("sandbox-bank")
    platform_private, platform_public = key_pair(data, "platform")
    options = ["--platform-public-key", str(platform_public), "--notice-retry-seconds", "0.05"]
    options += ["--notice-timeout", "2"]
    with running("sandboxes.bank", data, *options, name="the sandbox bank") as (url, log):
        yield BankServer(url, data, platform_private, data / "bank_public.pem", log)


@pytest.fixture
def http_bank(bank_server, settings, monkeypatch):
    """The HTTP adapter's settings point at the session's sandbox bank, its books empty; calls
    safe to repeat are repeated at once (no waiting between tries)."""
    from cards.gateways.http import HttpBankGateway

    monkeypatch.setattr(HttpBankGateway, "retry_delays", (0, 0))
    bank_server.reset()
    settings.BANK_HTTP_URL = bank_server.url
    settings.BANK_HTTP_TIMEOUT = [2.0, 5.0]
    settings.BANK_PLATFORM_PRIVATE_KEY = str(bank_server.platform_private_key)
    settings.BANK_PUBLIC_KEY = str(bank_server.bank_public_key)
    settings.BANK_GATEWAY = "cards.gateways.http.HttpBankGateway"
    yield bank_server
    bank_server.reset()
