"""The sandbox bank over HTTP, signed with its own helpers: statements, admin limits, isolation."""

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandboxes.bank import signing
from sandboxes.bank.store import settle_date


def signed(bank, method, path, payload=None):
    """A request signed with the session's platform key; the answer's signature checked."""
    body = b"" if payload is None else json.dumps(payload).encode()
    key = signing.load_private_key(bank.platform_private_key)
    headers = signing.headers(key, method, path, signing.digest(body), now=time.time())
    response = bank.client.request(method, f"{bank.url}{path}", content=body, headers=headers)
    nonce = signing.check(
        signing.load_public_key(bank.bank_public_key),
        str(response.status_code),
        path,
        response.headers,
        response.content,
        now=time.time(),
    )
    assert nonce == headers["X-Nonce"]
    return response


def test_statements_are_signed_and_carry_each_planted_difference(http_bank):
    poor, good = (
        http_bank.admin("POST", "/sandbox/seed", {"count": 1, "last4": last4})["agreements"][0]
        for last4 in ("9995", "1234")
    )
    items = [{"order_no": f"s{n}", "agreement_no": good, "amount_fen": 100 + n} for n in range(3)]
    items.append({"order_no": "f0", "agreement_no": poor, "amount_fen": 100})
    assert signed(http_bank, "POST", "/api/v1/debits/batch", {"items": items}).status_code == 200
    date = settle_date(time.time())

    response = signed(http_bank, "GET", f"/api/v1/statements/{date}")
    sha256 = hashlib.sha256(response.content).hexdigest()
    assert response.headers["X-Statement-Sha256"] == sha256 and response.headers["X-Statement-Lines"] == "4"
    assert response.headers["X-Statement-Final"] == "false"
    bank_key = signing.load_public_key(http_bank.bank_public_key)
    message = f"STATEMENT\n{date}\n{sha256}".encode()
    assert signing.verify(bank_key, message, response.headers["X-Statement-Signature"])
    assert response.text.splitlines()[0] == "order_no,amount_fen,status,failure_code,bank_ref,processed_at"

    planted = {
        kind: http_bank.arm("statement_difference", date=date, kind=kind)["order_no"]
        for kind in ("missing", "amount", "status", "unknown")
    }
    assert (planted["missing"], planted["amount"], planted["status"]) == ("s0", "s0", "f0")
    rows = {
        line.split(",")[0]: line.split(",")
        for line in signed(http_bank, "GET", f"/api/v1/statements/{date}").text.splitlines()[1:]
    }
    assert set(rows) == {"s1", "s2", "f0", planted["unknown"]}  # s0 left out
    assert rows["f0"][2] == "succeeded" and rows[planted["unknown"]][2] == "succeeded"

    agreements = signed(http_bank, "GET", f"/api/v1/agreement-statements/{date}").text.splitlines()
    assert len(agreements) == 3 and all(",active," in line for line in agreements[1:])
    tomorrow = settle_date(time.time() + 86400)
    response = signed(http_bank, "GET", f"/api/v1/statements/{tomorrow}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "statement_unknown"


def test_a_malformed_request_is_refused_and_changes_nothing(http_bank):
    [token] = http_bank.admin("POST", "/sandbox/seed", {"count": 1})["agreements"]
    for payload in (
        {"order_no": "bad order", "agreement_no": token, "amount_fen": 1},
        {"order_no": "k", "agreement_no": token, "amount_fen": 1.5},
        {"order_no": "k", "agreement_no": token, "amount_fen": True},
        {"order_no": "k", "agreement_no": token},
    ):
        response = signed(http_bank, "POST", "/api/v1/debits", payload)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "malformed")
    response = signed(http_bank, "POST", "/api/v1/debits/batch", {"items": [{}] * 1001})
    assert (response.status_code, response.json()["error"]["code"]) == (413, "too_large")
    assert signed(http_bank, "GET", "/api/v1/nowhere").status_code == 404
    assert signed(http_bank, "GET", "/api/v1/debits").json()["error"]["code"] == "method_not_allowed"
    assert http_bank.agreement(token)["debits"] == 0


@pytest.mark.parametrize(
    "fault", [{"fault": "nothing"}, {"fault": "timeout", "when": "during"}, {"fault": "error", "status": 404}]
)
def test_a_fault_that_makes_no_sense_is_refused(http_bank, fault):
    assert http_bank.client.post(f"{http_bank.url}/sandbox/faults", json=fault).status_code == 400


def test_the_sandbox_imports_nothing_from_the_platform():
    code = (
        "import sys, sandboxes.bank.__main__, sandboxes.bank.server; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'accounts', 'cards', 'lending', 'audit'}))"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == "[]"
