"""Field encryption (MultiFernet) and keyed fingerprints (HMAC-SHA256) for personal data.

Encryption keeps ID numbers and gateway tokens readable only with FIELD_ENCRYPTION_KEYS;
the first key encrypts and every key decrypts, so keys rotate by putting a new one first.
Fingerprints let the database find equal values (one account per identity, one card on
several accounts) without storing them; the key keeps them from being brute-forced.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plaintext: str) -> str:
    return seal(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    return unseal(token.encode()).decode()


def fingerprint(value: str) -> str:
    """Hex HMAC-SHA256 of ``value`` under PII_HMAC_KEY."""
    key = settings.PII_HMAC_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def seal(data: bytes) -> bytes:
    """``data`` encrypted and authenticated (for values kept outside the database)."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(data)


def unseal(token: bytes) -> bytes:
    """What ``seal`` sealed; raises ``cryptography.fernet.InvalidToken`` for anything else."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token)
