"""The bank's half of the signatures of PROTOCOL.md section 2 (SHA256withRSA over a canonical form).

The platform has its own copy of these few lines (cards/bank_protocol.py): the two sides
share a document, not code.
"""

import base64
import hashlib
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLOCK_SKEW_SECONDS = 300
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
TIMESTAMP = re.compile(r"\d{1,12}")


class Refused(Exception):
    """A request or notice that fails its checks; ``code`` is the protocol's error code."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def canonical(method: str, target: str, timestamp: str, nonce: str, body_sha256: str) -> bytes:
    return "\n".join([method, target, timestamp, nonce, body_sha256]).encode()


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def sign(private_key, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(public_key, message: bytes, signature: str) -> bool:
    try:
        public_key.verify(
            base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def headers(
    private_key, method: str, target: str, body_sha256: str, *, now: float, nonce: str | None = None
) -> dict:
    """The three signature headers for a message (a response passes its request's nonce)."""
    timestamp, nonce = str(int(now)), nonce or new_nonce()
    signature = sign(private_key, canonical(method, target, timestamp, nonce, body_sha256))
    return {"X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature}


def check(public_key, method: str, target: str, headers, body: bytes, *, now: float) -> str:
    """Checks 1-3 of PROTOCOL.md section 2; returns the nonce for the caller's replay check."""
    timestamp, nonce, signature = (
        headers.get(name, "") for name in ("X-Timestamp", "X-Nonce", "X-Signature")
    )
    if not (TIMESTAMP.fullmatch(timestamp) and NONCE.fullmatch(nonce) and signature):
        raise Refused("signature_missing")
    if not verify(public_key, canonical(method, target, timestamp, nonce, digest(body)), signature):
        raise Refused("signature_invalid")
    if abs(now - int(timestamp)) > CLOCK_SKEW_SECONDS:
        raise Refused("clock_skew")
    return nonce


def load_private_key(path: Path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def load_public_key(path: Path):
    return serialization.load_pem_public_key(path.read_bytes())


def generate_pair(private_path: Path, public_path: Path) -> None:
    """A new RSA-2048 pair as PEM files (PKCS#8 private, readable by the owner only)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
