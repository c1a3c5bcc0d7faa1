"""The FaceID simulator as a real server for the test session (a pytest plugin of the root conftest).

``faceid_server`` starts ``python -m sandboxes.faceid`` once per test process (each xdist worker
has its own) on a free port with its own data directory. Every test's settings point the
identity provider at it (autouse, so identity checks in any test go through the real SDK and
the simulator); ``faceid`` also empties its call log and liveness sessions first, and gives
the admin endpoints.
"""

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.test import override_settings

from tests.sandbox_servers import SandboxAdmin, running

SECRET_ID = "AKIDtestsession000000000000000000000"
SECRET_KEY = "test-session-faceid-secret-key"
RULE_ID = "test-rule"
SLOW_SECONDS = 8  # the "slow" ID numbers answer after this; the tests' FACEID_TIMEOUT is shorter
TIMEOUT = 3  # a loaded machine (browser tests beside) must not make a normal answer late


@dataclass
class FaceIdServer(SandboxAdmin):
    """A running simulator and its admin endpoints (sandboxes/faceid/README.md)."""

    url: str
    data_dir: Path
    log: Path
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10, trust_env=False))

    def calls(self, action: str = "") -> list[dict]:
        return [
            call for call in self.admin("GET", "/sandbox/calls")["calls"] if action in ("", call["action"])
        ]

    def env(self) -> dict:
        """The environment that points a subprocess's settings at this simulator."""
        return {
            "FACEID_ENDPOINT": self.url,
            "FACEID_SECRET_ID": SECRET_ID,
            "FACEID_SECRET_KEY": SECRET_KEY,
            "FACEID_RULE_ID": RULE_ID,
        }

    def finish(self, biz_token: str, source: str = "camera") -> None:
        """Go through the liveness page as the borrower would (without a browser)."""
        assert self.admin("POST", f"/sandbox/liveness/{biz_token}/finish", {"source": source})["finished"]


@pytest.fixture(scope="session")
def faceid_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("sandbox-faceid")
    options = ["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY, "--rule-id", RULE_ID]
    options += ["--slow-seconds", str(SLOW_SECONDS)]
    with running("sandboxes.faceid", data, *options, name="the FaceID simulator") as (url, log):
        yield FaceIdServer(url, data, log)


@pytest.fixture(scope="session", autouse=True)
def _identity_provider_is_the_simulator(faceid_server, django_test_environment):
    """Every test checks identities with the session's simulator, through the real SDK."""
    override = override_settings(
        IDENTITY_PROVIDER="accounts.identity.tencent.TencentIdentityProvider",
        FACEID_ENDPOINT=faceid_server.url,
        FACEID_SECRET_ID=SECRET_ID,
        FACEID_SECRET_KEY=SECRET_KEY,
        FACEID_RULE_ID=RULE_ID,
        FACEID_TIMEOUT=TIMEOUT,
    )
    override.enable()
    yield
    override.disable()


@pytest.fixture
def faceid(faceid_server):
    """The session's simulator, its call log and liveness sessions empty."""
    faceid_server.reset()
    yield faceid_server
