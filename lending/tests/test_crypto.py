from cryptography.fernet import Fernet

from lending.crypto import decrypt, encrypt, fingerprint


def test_encrypt_round_trip_and_ciphertext_hides_the_value():
    token = encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert decrypt(token) == "11010519491231002X"


def test_keys_rotate_old_ciphertext_stays_readable(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    token = encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert decrypt(token) == "secret"
    assert Fernet(new_key).decrypt(encrypt("fresh").encode()) == b"fresh"  # the first key encrypts


def test_fingerprint_is_keyed_and_stable(settings):
    first = fingerprint("6222021234567890128")
    assert first == fingerprint("6222021234567890128") and len(first) == 64
    settings.PII_HMAC_KEY = "another-key-another-key-another-key"
    assert fingerprint("6222021234567890128") != first
