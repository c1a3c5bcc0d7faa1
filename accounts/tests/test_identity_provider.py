"""The Tencent FaceID adapter, through the real SDK against the simulator (a real server)."""

import pytest

from accounts.identity import Outcome, ProviderError, ProviderUnavailable, get_provider
from accounts.tests import identity_numbers as ids
from conftest import free_port

RETURN_URL = "http://testserver/account/phone/lost/face/?case=1"


@pytest.mark.parametrize(
    "number, outcome, detail",
    [
        (ids.MATCH, Outcome.MATCH, "0"),
        (ids.MISMATCH, Outcome.MISMATCH, "-1"),
        (ids.NOT_FOUND, Outcome.NOT_FOUND, "-5"),
    ],
)
def test_two_element_check(faceid, number, outcome, detail):
    result = get_provider().id_check(name="张三", id_number=number)
    [call] = faceid.calls("IdCardVerification")
    assert (result.outcome, result.detail, result.request_id) == (outcome, detail, call["request_id"])
    assert call["id_masked"] == number[:3] + "*" * 11 + number[-4:]  # the simulator keeps no full number


@pytest.mark.parametrize(
    "number, phone, outcome",
    [
        (ids.MATCH, "+8613800138000", Outcome.MATCH),
        (ids.MATCH, "+8613800130990", Outcome.MISMATCH),  # a number in someone else's name
        (ids.MATCH, "+8613800130991", Outcome.NOT_FOUND),
        (ids.MISMATCH, "+8613800138000", Outcome.MISMATCH),
    ],
)
def test_three_element_check(faceid, number, phone, outcome):
    result = get_provider().phone_check(name="张三", id_number=number, phone=phone)
    assert (
        result.outcome == outcome and result.request_id == faceid.calls("PhoneVerification")[0]["request_id"]
    )


@pytest.mark.parametrize(
    "number, passed, similarity", [(ids.MATCH, True, 92.4), (ids.FACE_FAILS, False, 38.5)]
)
def test_liveness_start_then_the_result_once_the_page_is_done(faceid, number, passed, similarity):
    provider = get_provider()
    start = provider.liveness_start(name="张三", id_number=number, return_url=RETURN_URL)
    assert start.url == f"{faceid.url}/h5/liveness?token={start.biz_token}"
    before = provider.liveness_result(biz_token=start.biz_token)
    assert (before.finished, before.passed, before.similarity) == (False, False, None)
    faceid.finish(start.biz_token)
    after = provider.liveness_result(biz_token=start.biz_token)
    assert (after.finished, after.passed, after.similarity) == (True, passed, similarity)
    assert after.request_id.startswith("sbx-") and after.request_id != before.request_id


def test_an_unknown_liveness_token_is_an_error_of_the_request(faceid):
    with pytest.raises(ProviderError) as error:
        get_provider().liveness_result(biz_token="NOSUCHTOKEN")
    assert error.value.code == "InvalidParameterValue.BizTokenIllegal"
    assert not isinstance(error.value, ProviderUnavailable)


@pytest.mark.parametrize(
    "setting, value, code",
    [
        ("FACEID_SECRET_KEY", "not-the-key", "AuthFailure.SignatureFailure"),
        ("FACEID_SECRET_ID", "AKIDsomeoneelse0000000000000000000000", "AuthFailure.SecretIdNotFound"),
    ],
)
def test_the_simulator_refuses_requests_not_signed_with_the_known_pair(
    faceid, settings, setting, value, code
):
    setattr(settings, setting, value)
    with pytest.raises(ProviderError, match="FACEID_SECRET_ID and FACEID_SECRET_KEY") as error:
        get_provider().id_check(name="张三", id_number=ids.MATCH)
    assert error.value.code == code and not isinstance(error.value, ProviderUnavailable)
    assert not faceid.calls()


def test_a_wrong_rule_id_is_named(faceid, settings):
    settings.FACEID_RULE_ID = "999"
    with pytest.raises(ProviderError, match="FACEID_RULE_ID"):
        get_provider().liveness_start(name="张三", id_number=ids.MATCH, return_url=RETURN_URL)


@pytest.mark.parametrize("number, code", [(ids.DOWN, "ServerNetworkError"), (ids.SLOW, "ClientNetworkError")])
def test_outage_and_timeout_are_unavailable(faceid, number, code):
    with pytest.raises(ProviderUnavailable, match="try again later") as error:
        get_provider().id_check(name="张三", id_number=number)
    assert error.value.code == code


def test_nobody_listening_is_unavailable(settings):
    settings.FACEID_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ProviderUnavailable):
        get_provider().id_check(name="张三", id_number=ids.MATCH)
