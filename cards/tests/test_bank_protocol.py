"""The platform's check of the bank's notices (signature, clock, nonce, shape), before the endpoint."""

import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from cards import bank_protocol
from tests.bank_server import key_pair

TARGET = "/bank/notices/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bank_keys(tmp_path_factory):
    private, public = key_pair(tmp_path_factory.mktemp("keys"), "bank")
    return bank_protocol.load_private_key(str(private)), bank_protocol.load_public_key(str(public))


def notice(**overrides) -> bytes:
    body = {"notice_id": "n_1", "type": "debit.result", "created_at": "2026-12-15T00:00:03Z", "data": {}}
    return json.dumps({**body, **overrides}).encode()


def verify(bank_keys, body, *, headers=None, target=TARGET, **sign):
    private, public = bank_keys
    if headers is None:
        headers = bank_protocol.signed_headers(private, "POST", TARGET, body, **sign)
    return bank_protocol.notice_verify(target=target, headers=headers, body=body, public_key=public)


def refusal(call) -> str:
    with pytest.raises(bank_protocol.SignatureRefused) as refused:
        call()
    return refused.value.code


def test_a_notice_signed_by_the_bank_is_accepted_once(bank_keys):
    private, public = bank_keys
    body = notice()
    headers = bank_protocol.signed_headers(private, "POST", TARGET, body)
    assert verify(bank_keys, body, headers=headers)["notice_id"] == "n_1"
    assert refusal(lambda: verify(bank_keys, body, headers=headers)) == "nonce_reused"


def test_a_changed_body_another_target_or_another_key_fails_the_signature(bank_keys, tmp_path):
    private, _ = bank_keys
    headers = bank_protocol.signed_headers(private, "POST", TARGET, notice())
    assert refusal(lambda: verify(bank_keys, notice(notice_id="n_2"), headers=headers)) == "signature_invalid"
    assert refusal(lambda: verify(bank_keys, notice(), target="/elsewhere/")) == "signature_invalid"
    other = bank_protocol.load_private_key(str(key_pair(tmp_path, "other")[0]))
    forged = bank_protocol.signed_headers(other, "POST", TARGET, notice())
    assert refusal(lambda: verify(bank_keys, notice(), headers=forged)) == "signature_invalid"


def test_a_notice_more_than_five_minutes_off_is_refused(bank_keys):
    assert refusal(lambda: verify(bank_keys, notice(), now=time.time() - 301)) == "clock_skew"
    assert refusal(lambda: verify(bank_keys, notice(), now=time.time() + 301)) == "clock_skew"
    assert verify(bank_keys, notice(), now=time.time() - 290)["type"] == "debit.result"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Timestamp": "1", "X-Nonce": "short", "X-Signature": "x"},
        {"X-Timestamp": "soon", "X-Signature": "x"},
    ],
)
def test_missing_or_malformed_signature_headers(bank_keys, headers):
    assert refusal(lambda: verify(bank_keys, notice(), headers=headers)) == "signature_missing"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", notice(type="debit.unknown"), notice(notice_id=""), notice(data="x"), b"{}"],
)
def test_a_well_signed_notice_of_the_wrong_shape_is_malformed(bank_keys, body):
    assert refusal(lambda: verify(bank_keys, body)) == "malformed"


def test_an_oversized_notice_is_refused_before_anything_else(bank_keys):
    body = notice(data={"x": "y" * bank_protocol.NOTICE_MAX_BYTES})
    assert refusal(lambda: verify(bank_keys, body)) == "too_large"


def test_the_acknowledgement_names_the_notice():
    assert json.loads(bank_protocol.notice_ack("n_1")) == {"notice_id": "n_1", "received": True}


def test_keys_load_from_pem_text_or_a_path_and_the_development_pair_matches(tmp_path):
    private_path, _ = key_pair(tmp_path, "k")
    from_path = bank_protocol.load_private_key(str(private_path))
    from_text = bank_protocol.load_private_key(private_path.read_text())
    assert from_path.private_numbers() == from_text.private_numbers()
    dev_private = bank_protocol.load_private_key(str(ROOT / "cards/gateways/dev_keys/platform_private.pem"))
    sandbox_trusts = serialization.load_pem_public_key(
        (ROOT / "sandboxes/bank/dev_keys/platform_public.pem").read_bytes()
    )
    assert dev_private.public_key().public_numbers() == sandbox_trusts.public_numbers()
