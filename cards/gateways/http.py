"""The bank over HTTP: agreement payment as sandboxes/bank/PROTOCOL.md defines it.

Settings: BANK_HTTP_URL (the bank's base URL), BANK_HTTP_TIMEOUT (connect and read seconds),
BANK_PLATFORM_PRIVATE_KEY (ours, signs requests), BANK_PUBLIC_KEY (the bank's, checks answers).

One httpx connection pool per process, reused by every gateway instance. Only calls that are
safe to repeat (queries, revoke) are retried, three tries with a short backoff. A debit whose
answer is lost (timeout, closed connection, 5xx, an answer that fails its signature check)
raises GatewayUnavailable, or gives None in ``debit_many``: "unknown, query it", never debited
again blindly. Request and answer bodies (card and ID numbers, agreement numbers) are never
logged.

Statement files (PROTOCOL.md section 6) are streamed to a temporary file while their SHA-256 is
computed, never held in memory; the answer's signature, the file's digest and the bank's
statement signature are checked before anyone reads a line (StatementRefused otherwise).
"""

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cards import bank_protocol
from cards.gateways.base import (
    BankGateway,
    BindRefused,
    DebitRequest,
    DebitResult,
    GatewayError,
    GatewayUnavailable,
    Statement,
    StatementRefused,
)

log = logging.getLogger(__name__)

BATCH = 500  # debits per batch request (the protocol takes up to 1,000)
BIND_REFUSALS = {
    "four_elements": "the four elements do not match the bank's records",
    "card_closed": "the card is closed",
    "code_wrong": "the bank's code is wrong",
    "code_expired": "the bank's code has expired",
    "not_pending": "the binding is no longer pending",
}

STATEMENT_HEADERS = {
    "statements": "order_no,amount_fen,status,failure_code,bank_ref,processed_at",
    "agreement-statements": "agreement_no,status,card_last4,signed_at,ended_at,ended_by",
}
ERROR_BODY_LIMIT = 64 * 1024  # a refusal is a small JSON object; a bigger body is not one

_clients: dict[tuple, httpx.Client] = {}
_clients_lock = threading.Lock()


class BankAnswerRefused(GatewayUnavailable):
    """The bank's answer failed its checks (signature, nonce, clock, not JSON): as if none came."""

    code = "bad_answer"


def _client(base_url: str, timeouts) -> httpx.Client:
    """This process's pool for ``base_url`` (a forked worker makes its own)."""
    connect, read = (float(seconds) for seconds in timeouts)
    key = (os.getpid(), base_url, connect, read)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = httpx.Client(
                timeout=httpx.Timeout(read, connect=connect, pool=connect),
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                headers={
                    "User-Agent": "lending-platform/1",
                    "Content-Type": "application/json; charset=utf-8",
                },
                trust_env=False,  # the bank is reached directly, whatever proxy the environment names
            )
    return client


def _fen(amount: Decimal) -> int:
    fen = Decimal(amount) * 100
    if fen != fen.to_integral_value() or fen <= 0:
        raise ValueError("a debit is a positive amount in whole fen")
    return int(fen)


def _result(answer: dict) -> DebitResult | None:
    """A debit result of the protocol; None while the bank says it is still processing."""
    if answer.get("status") == "processing":
        return None
    return DebitResult(
        succeeded=answer.get("status") == "succeeded",
        reference=str(answer.get("bank_ref", "")),
        failure_code=str(answer.get("failure_code", "")),
        soft=bool(answer.get("retryable", False)),
    )


def _final_result(answer: dict) -> DebitResult:
    """The debit's result; a debit the bank is still processing is unknown for now (query it later)."""
    result = _result(answer)
    if result is None:
        raise GatewayUnavailable("the bank is still processing the debit", code="processing")
    return result


def _error_code(answer) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    return str(error.get("code", "gateway_error")) if isinstance(error, dict) else "gateway_error"


class HttpBankGateway(BankGateway):
    retry_delays = (0.2, 0.5)

    def __init__(self):
        if not settings.BANK_HTTP_URL.startswith(("https://", "http://")):
            raise ImproperlyConfigured("HttpBankGateway needs BANK_HTTP_URL (http/https).")
        self.base_url = settings.BANK_HTTP_URL.rstrip("/")
        self.client = _client(self.base_url, settings.BANK_HTTP_TIMEOUT)
        self.private_key = bank_protocol.platform_private_key()
        self.bank_key = bank_protocol.bank_public_key()

    def bind_start(self, *, holder_name, id_number, card_number, reserved_phone):
        payload = {
            "holder_name": holder_name,
            "id_number": id_number,
            "card_number": card_number,
            "reserved_phone": reserved_phone,
        }
        return self._bind("/api/v1/agreements/sign", payload)["sign_id"]

    def bind_confirm(self, *, reference, code):
        return self._bind("/api/v1/agreements/confirm", {"sign_id": reference, "sms_code": str(code)})[
            "agreement_no"
        ]

    def signup_agreement(self, *, reference):
        target = f"/api/v1/agreements/signups/{quote(reference, safe='')}"
        status, answer = self._call("GET", target, repeatable=True)
        if status == 404 and _error_code(answer) == "signup_unknown":
            return None
        if status != 200:
            raise GatewayError("the bank refused the sign-up query", code=_error_code(answer))
        return answer.get("agreement_no") or None

    def revoke(self, *, token):
        status, answer = self._call(
            "POST", "/api/v1/agreements/unsign", {"agreement_no": token}, repeatable=True
        )
        if status != 200 and _error_code(answer) != "agreement_unknown":  # never issued: nothing to end
            raise GatewayError("the bank refused to end the agreement", code=_error_code(answer))

    def debit(self, *, token, amount, idempotency_key):
        payload = {"order_no": idempotency_key, "agreement_no": token, "amount_fen": _fen(amount)}
        status, answer = self._call("POST", "/api/v1/debits", payload)
        if status != 200:
            raise GatewayError("the bank refused the debit", code=_error_code(answer))
        return _final_result(answer)

    def debit_many(self, requests: list[DebitRequest]) -> dict[str, DebitResult | None]:
        """Batches of BATCH; a batch without an answer leaves its keys None (query them)."""
        results: dict[str, DebitResult | None] = {}
        for start in range(0, len(requests), BATCH):
            chunk = requests[start : start + BATCH]
            results.update(dict.fromkeys((r.idempotency_key for r in chunk), None))
            items = [
                {"order_no": r.idempotency_key, "agreement_no": r.token, "amount_fen": _fen(r.amount)}
                for r in chunk
            ]
            try:
                status, answer = self._call("POST", "/api/v1/debits/batch", {"items": items})
            except GatewayUnavailable:
                continue
            if status != 200:
                raise GatewayError("the bank refused the batch", code=_error_code(answer))
            for item in answer.get("items", []):
                if item.get("order_no") in results and "error" not in item:
                    results[item["order_no"]] = _result(item)
        return results

    def query_debit(self, *, idempotency_key):
        target = f"/api/v1/debits/{quote(idempotency_key, safe='')}"
        status, answer = self._call("GET", target, repeatable=True)
        if status == 404 and _error_code(answer) == "order_unknown":
            return None
        if status != 200:
            raise GatewayError("the bank refused the query", code=_error_code(answer))
        return _final_result(answer)

    def statement(self, settle_date: date) -> Statement:
        return self._statement("statements", settle_date)

    def agreement_statement(self, settle_date: date) -> Statement:
        return self._statement("agreement-statements", settle_date)

    def _statement(self, kind: str, settle_date: date) -> Statement:
        """Download (safe to repeat: retried while the bank does not answer) and check a file."""
        path = f"/api/v1/{kind}/{settle_date.isoformat()}"
        for delay in self.retry_delays:
            try:
                return self._download(path, settle_date, STATEMENT_HEADERS[kind])
            except GatewayUnavailable as exc:
                log.warning("bank GET %s: %s; trying again", path, exc.code)
                time.sleep(delay)
        return self._download(path, settle_date, STATEMENT_HEADERS[kind])

    def _download(self, path: str, settle_date: date, header: str) -> Statement:
        url = httpx.URL(self.base_url + path)
        target = url.raw_path.decode("ascii")
        nonce_headers = bank_protocol.signed_headers(self.private_key, "GET", target, b"")
        with tempfile.NamedTemporaryFile("wb", prefix="bank-statement-", suffix=".csv", delete=False) as out:
            file = Path(out.name)
        try:
            with open(file, "wb") as out, self.client.stream("GET", url, headers=nonce_headers) as response:
                if response.status_code >= 500:
                    raise GatewayUnavailable(f"the bank answered {response.status_code}", code="bank_error")
                if response.status_code != 200:
                    self._refusal(response, target, nonce_headers["X-Nonce"])
                digest = hashlib.sha256()
                for block in response.iter_bytes(1 << 20):
                    digest.update(block)
                    out.write(block)
            statement = self._checked(response, target, nonce_headers["X-Nonce"], file, digest.hexdigest())
            if statement.date != settle_date:
                raise StatementRefused("the file is for another date", code="statement_malformed")
            with open(file, encoding="utf-8", newline="") as lines:
                if lines.readline().rstrip("\n") != header:
                    raise StatementRefused(
                        "the file's header line is not the protocol's", code="statement_malformed"
                    )
        except httpx.TimeoutException:
            file.unlink(missing_ok=True)
            raise GatewayUnavailable("the bank did not answer in time", code="timeout") from None
        except httpx.HTTPError as exc:
            file.unlink(missing_ok=True)
            raise GatewayUnavailable(
                f"the bank could not be reached ({type(exc).__name__})", code="unreachable"
            ) from None
        except BaseException:
            file.unlink(missing_ok=True)
            raise
        return statement

    def _refusal(self, response: httpx.Response, target: str, nonce: str):
        """A statement the bank refused (404 statement_unknown: a date not begun)."""
        body = b""
        for block in response.iter_bytes():
            body += block
            if len(body) > ERROR_BODY_LIMIT:
                raise BankAnswerRefused("the bank's refusal is too large")
        try:
            bank_protocol.answer_check(
                self.bank_key, response.status_code, target, nonce, response.headers, body
            )
            answer = json.loads(body)
        except (bank_protocol.SignatureRefused, ValueError):
            raise BankAnswerRefused("the bank's answer failed its check") from None
        raise GatewayError("the bank refused the statement", code=_error_code(answer))

    def _checked(
        self, response: httpx.Response, target: str, nonce: str, file: Path, sha256: str
    ) -> Statement:
        """The answer's signature (over the file's digest), the digest the bank states, and the
        bank's statement signature; anything else refuses the file."""
        headers = response.headers
        try:
            bank_protocol.statement_answer_check(
                self.bank_key, response.status_code, target, nonce, headers, sha256
            )
        except bank_protocol.SignatureRefused as exc:
            log.warning("bank GET %s: the statement's answer failed its check: %s", target, exc.code)
            raise StatementRefused(
                f"the answer's signature failed its check ({exc.code})", code="statement_answer_refused"
            ) from None
        if headers.get("X-Statement-Sha256", "") != sha256:
            raise StatementRefused(
                "the file's SHA-256 is not the one the bank states", code="statement_digest_mismatch"
            )
        stated_date, signature = headers.get("X-Statement-Date", ""), headers.get("X-Statement-Signature", "")
        try:
            bank_protocol.statement_signature_check(self.bank_key, stated_date, sha256, signature)
        except bank_protocol.SignatureRefused:
            raise StatementRefused(
                "the bank's signature of the file does not verify", code="statement_signature_invalid"
            ) from None
        try:
            return Statement(
                date=date.fromisoformat(stated_date),
                path=file,
                sha256=sha256,
                signature=signature,
                lines=int(headers.get("X-Statement-Lines", "")),
                final=headers.get("X-Statement-Final") == "true",
            )
        except ValueError:
            raise StatementRefused("the file's headers are malformed", code="statement_malformed") from None

    def _bind(self, path: str, payload: dict) -> dict:
        status, answer = self._call("POST", path, payload)
        if status == 200:
            return answer
        code = _error_code(answer)
        if code in BIND_REFUSALS:
            raise BindRefused(BIND_REFUSALS[code], code=code)
        raise GatewayError("the bank refused the binding", code=code)

    def _call(self, method: str, path: str, payload: dict | None = None, *, repeatable: bool = False):
        """(status, parsed answer) of one signed exchange; retried if ``repeatable``."""
        body = (
            b""
            if payload is None
            else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        )
        for delay in self.retry_delays if repeatable else ():
            try:
                return self._exchange(method, path, body)
            except GatewayUnavailable as exc:
                log.warning("bank %s %s: %s; trying again", method, path, exc.code)
                time.sleep(delay)
        return self._exchange(method, path, body)

    def _exchange(self, method: str, path: str, body: bytes):
        url = httpx.URL(self.base_url + path)
        target = url.raw_path.decode("ascii")
        headers = bank_protocol.signed_headers(self.private_key, method, target, body)
        try:
            response = self.client.request(method, url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise GatewayUnavailable("the bank did not answer in time", code="timeout") from None
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(
                f"the bank could not be reached ({type(exc).__name__})", code="unreachable"
            ) from None
        if response.status_code >= 500:
            raise GatewayUnavailable(f"the bank answered {response.status_code}", code="bank_error")
        try:
            bank_protocol.answer_check(
                self.bank_key,
                response.status_code,
                target,
                headers["X-Nonce"],
                response.headers,
                response.content,
            )
            answer = response.json()
        except (bank_protocol.SignatureRefused, ValueError) as exc:
            why = exc.code if isinstance(exc, bank_protocol.SignatureRefused) else "not JSON"
            log.warning(
                "bank %s %s: its answer (%s) failed its check: %s", method, path, response.status_code, why
            )
            raise BankAnswerRefused(f"the bank's answer failed its check ({why})") from None
        if not isinstance(answer, dict):
            raise BankAnswerRefused("the bank's answer is not a JSON object")
        return response.status_code, answer
