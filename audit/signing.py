"""Ed25519 signatures over canonical JSON: audit checkpoints and export manifests.

The private key is ``AUDIT_SIGNING_KEY``; auditors check with the public key alone
(``public_key_text``), so a signed file can be verified away from the database.
"""

import base64
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _private_key() -> Ed25519PrivateKey:
    if not settings.AUDIT_SIGNING_KEY:
        raise ImproperlyConfigured("Set AUDIT_SIGNING_KEY to sign or check audit checkpoints and exports.")
    return Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(settings.AUDIT_SIGNING_KEY))


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(payload: dict) -> str:
    return base64.b64encode(_private_key().sign(canonical(payload))).decode()


def public_key_text() -> str:
    raw = _private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def signature_valid(payload: dict, signature: str, public_key: str | None = None) -> bool:
    """Whether ``signature`` signs ``payload``, checked with ``public_key`` (base64) or ours."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key or public_key_text()))
    try:
        key.verify(base64.b64decode(signature), canonical(payload))
    except (InvalidSignature, ValueError):
        return False
    return True
