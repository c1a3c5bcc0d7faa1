"""The platform's half of the bank protocol's signatures (sandboxes/bank/PROTOCOL.md, section 2):
SHA256withRSA (PKCS#1 v1.5) over ``METHOD\\nTARGET\\nTIMESTAMP\\nNONCE\\nhex SHA-256 of the body``.

Used by the HTTP adapter (requests it signs, answers it checks) and by the notices endpoint
(``notice_verify``). Keys come from BANK_PLATFORM_PRIVATE_KEY and BANK_PUBLIC_KEY: PEM text, or
the path of a PEM file.
"""

import base64
import functools
import hashlib
import json
import re
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

CLOCK_SKEW_SECONDS = 300
NONCE_SECONDS = 600  # nonces are remembered this long (twice the clock window)
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
TIMESTAMP = re.compile(r"\d{1,12}")
NOTICE_TYPES = {"debit.result", "agreement.ended", "card.closed"}
NOTICE_MAX_BYTES = 64 * 1024


class SignatureRefused(Exception):
    """A message that fails the protocol's checks; ``code`` is the protocol's error code
    (signature_missing, signature_invalid, clock_skew, nonce_reused, malformed)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def canonical(first: str, target: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return canonical_digest(first, target, timestamp, nonce, hashlib.sha256(body).hexdigest())


def canonical_digest(first: str, target: str, timestamp: str, nonce: str, body_sha256: str) -> bytes:
    """The canonical form for a body known by its SHA-256 (a statement file streamed to disk)."""
    return "\n".join([first, target, timestamp, nonce, body_sha256]).encode()


def sign(private_key, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_headers(private_key, method: str, target: str, body: bytes, *, now: float | None = None) -> dict:
    """X-Timestamp, X-Nonce and X-Signature for a request of ours."""
    timestamp, nonce = str(int(time.time() if now is None else now)), secrets.token_urlsafe(18)
    signature = sign(private_key, canonical(method, target, timestamp, nonce, body))
    return {"X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature}


def signature_check(
    public_key, first: str, target: str, headers, body: bytes, *, now: float | None = None
) -> str:
    """Checks 1-3 of the protocol (headers, signature, clock); returns the message's nonce."""
    return signature_check_digest(
        public_key, first, target, headers, hashlib.sha256(body).hexdigest(), now=now
    )


def signature_check_digest(
    public_key, first: str, target: str, headers, body_sha256: str, *, now: float | None = None
) -> str:
    """``signature_check`` for a body known by its SHA-256."""
    timestamp, nonce, signature = (
        headers.get(name) or "" for name in ("X-Timestamp", "X-Nonce", "X-Signature")
    )
    if not (TIMESTAMP.fullmatch(timestamp) and NONCE.fullmatch(nonce) and signature):
        raise SignatureRefused("signature_missing")
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(
            raw,
            canonical_digest(first, target, timestamp, nonce, body_sha256),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        raise SignatureRefused("signature_invalid") from None
    if abs((time.time() if now is None else now) - int(timestamp)) > CLOCK_SKEW_SECONDS:
        raise SignatureRefused("clock_skew")
    return nonce


def answer_check(public_key, status: int, target: str, nonce: str, headers, body: bytes) -> None:
    """The bank's answer to our request: signed by the bank over our target and our nonce."""
    if signature_check(public_key, str(status), target, headers, body) != nonce:
        raise SignatureRefused("nonce_mismatch")


def statement_answer_check(
    public_key, status: int, target: str, nonce: str, headers, body_sha256: str
) -> None:
    """``answer_check`` for a statement file, whose body was streamed to disk and hashed there."""
    if signature_check_digest(public_key, str(status), target, headers, body_sha256) != nonce:
        raise SignatureRefused("nonce_mismatch")


def statement_signature_check(public_key, date: str, body_sha256: str, signature: str) -> None:
    """The bank's signature of a statement file (PROTOCOL.md 6.1, ``X-Statement-Signature``): over
    ``STATEMENT\\n{date}\\n{sha256 hex}``, kept with the archived file as proof of what it said."""
    try:
        public_key.verify(
            base64.b64decode(signature, validate=True),
            f"STATEMENT\n{date}\n{body_sha256}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        raise SignatureRefused("statement_signature_invalid") from None


def nonce_first_use(nonce: str) -> bool:
    """True the first time the bank uses ``nonce`` within NONCE_SECONDS (shared cache: Redis in
    production, so every web process sees it)."""
    return cache.add(f"bank-notice-nonce:{nonce}", 1, timeout=NONCE_SECONDS)


def notice_verify(*, target: str, headers, body: bytes, public_key=None, first_use=nonce_first_use) -> dict:
    """A notice the bank POSTed to ``target`` (path and query of our notice URL): signature,
    clock and nonce checked, body parsed. Returns ``{"notice_id", "type", "created_at", "data"}``;
    raises SignatureRefused (answer it with a 4xx and change nothing)."""
    if len(body) > NOTICE_MAX_BYTES:
        raise SignatureRefused("too_large")
    nonce = signature_check(public_key or bank_public_key(), "POST", target, headers, body)
    if not first_use(nonce):
        raise SignatureRefused("nonce_reused")
    try:
        notice = json.loads(body)
    except ValueError:
        raise SignatureRefused("malformed") from None
    if not (
        isinstance(notice, dict)
        and isinstance(notice.get("notice_id"), str)
        and 0 < len(notice["notice_id"]) <= 64
        and notice.get("type") in NOTICE_TYPES
        and isinstance(notice.get("data"), dict)
    ):
        raise SignatureRefused("malformed")
    return notice


def notice_ack(notice_id: str) -> bytes:
    """The body that acknowledges a notice (anything else makes the bank send it again)."""
    return json.dumps({"notice_id": notice_id, "received": True}).encode()


def _pem(value: str) -> bytes:
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    return Path(value).read_bytes()


@functools.lru_cache(maxsize=8)
def load_private_key(value: str):
    return serialization.load_pem_private_key(_pem(value), password=None)


@functools.lru_cache(maxsize=8)
def load_public_key(value: str):
    return serialization.load_pem_public_key(_pem(value))


def platform_private_key():
    if not settings.BANK_PLATFORM_PRIVATE_KEY:
        raise ImproperlyConfigured("BANK_PLATFORM_PRIVATE_KEY is not set.")
    return load_private_key(settings.BANK_PLATFORM_PRIVATE_KEY)


def bank_public_key():
    if not settings.BANK_PUBLIC_KEY:
        raise ImproperlyConfigured("BANK_PUBLIC_KEY is not set.")
    return load_public_key(settings.BANK_PUBLIC_KEY)
