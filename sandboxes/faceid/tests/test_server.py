"""The simulator's own rules: signatures, the hosted page, what it keeps."""

import json
import time
from datetime import UTC, datetime

import httpx
import pytest

from sandboxes.faceid import outcomes, signing
from tests.faceid_server import SECRET_ID, SECRET_KEY

MATCH = "110105199003071239"


def signed(url: str, action: str, payload: dict, *, secret_key=SECRET_KEY, timestamp=None, body=None):
    """A request signed as the SDK signs it (TC3-HMAC-SHA256 over content-type and host)."""
    host = url.removeprefix("http://")
    timestamp = int(time.time()) if timestamp is None else timestamp
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    data = json.dumps(payload).encode()
    canonical = "\n".join(
        (
            "POST",
            "/",
            "",
            f"content-type:application/json\nhost:{host}\n",
            "content-type;host",
            __import__("hashlib").sha256(data).hexdigest(),
        )
    )
    signature = signing.signature(
        secret_key, date=date, timestamp=str(timestamp), canonical_request=canonical
    )
    headers = {
        "Content-Type": "application/json",
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": "2018-03-01",
        "Authorization": f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/faceid/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}",
    }
    answer = httpx.post(f"{url}/", content=data if body is None else body, headers=headers, trust_env=False)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    return answer.json()["Response"]


def error_code(response: dict) -> str:
    return response.get("Error", {}).get("Code", "")


def test_a_correctly_signed_request_is_answered(faceid):
    response = signed(faceid.url, "IdCardVerification", {"Name": "张三", "IdCard": MATCH})
    assert response["Result"] == "0" and response["RequestId"].startswith("sbx-")


@pytest.mark.parametrize(
    "change, code",
    [
        ({"secret_key": "wrong"}, "AuthFailure.SignatureFailure"),
        ({"timestamp": int(time.time()) - 600}, "AuthFailure.SignatureExpire"),
        (
            {"body": json.dumps({"Name": "张三", "IdCard": "110105199003079900"}).encode()},
            "AuthFailure.SignatureFailure",
        ),
    ],
    ids=["wrong key", "stale", "body changed after signing"],
)
def test_bad_signatures_are_refused(faceid, change, code):
    response = signed(faceid.url, "IdCardVerification", {"Name": "张三", "IdCard": MATCH}, **change)
    assert error_code(response) == code and not faceid.calls()


def test_an_unsigned_request_is_refused(faceid):
    answer = httpx.post(
        f"{faceid.url}/", json={}, headers={"X-TC-Action": "IdCardVerification"}, trust_env=False
    )
    assert error_code(answer.json()["Response"]) == "AuthFailure.SignatureFailure"


def test_every_outcome_in_the_table_has_valid_numbers():
    for sequence in ("123", "990", "991", "992", "993", "994"):
        first17 = "11010519900307" + sequence
        assert outcomes.valid_id(first17 + outcomes.check_digit(first17))
    assert outcomes.behaviour("110105199003071238").id_result == "-2"  # a wrong check digit


def _start(faceid, redirect="http://platform.test/face/back/?change=7"):
    response = signed(
        faceid.url,
        "DetectAuth",
        {"RuleId": "test-rule", "Name": "张三", "IdCard": MATCH, "RedirectUrl": redirect},
    )
    return response["BizToken"], response["Url"]


def test_the_hosted_page_shows_the_camera_with_an_upload_fallback_and_returns_with_the_token(faceid):
    token, url = _start(faceid)
    page = httpx.get(url, trust_env=False)
    assert page.status_code == 200 and 'name="viewport"' in page.text
    assert "getUserMedia" in page.text and 'type="file"' in page.text
    assert "http://" not in page.text.replace('"http://', "") and "https://" not in page.text  # no CDN
    missing = httpx.post(f"{faceid.url}/h5/liveness/done", data={"token": token}, trust_env=False)
    assert missing.status_code == 400  # nothing was taken
    done = httpx.post(
        f"{faceid.url}/h5/liveness/done", data={"token": token, "source": "camera"}, trust_env=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"http://platform.test/face/back/?change=7&token={token}"
    session = faceid.admin("GET", f"/sandbox/liveness/{token}")
    assert session["frame_source"] == "camera" and session["finished_at"]
    assert httpx.get(url, trust_env=False).status_code == 404  # used once


def test_cancel_returns_without_finishing(faceid):
    token, _url = _start(faceid, redirect="http://platform.test/back/")
    answer = httpx.post(f"{faceid.url}/h5/liveness/cancel", data={"token": token}, trust_env=False)
    assert answer.headers["location"] == f"http://platform.test/back/?token={token}"
    assert faceid.admin("GET", f"/sandbox/liveness/{token}")["finished_at"] is None


def test_the_simulator_keeps_no_name_or_full_number(faceid):
    _start(faceid)
    signed(faceid.url, "PhoneVerification", {"Name": "张三", "IdCard": MATCH, "Phone": "13800138000"})
    stored = (faceid.data_dir / "faceid.sqlite3").read_bytes()
    for secret in (MATCH, "张三".encode().decode(), "13800138000"):
        assert secret.encode() not in stored


def test_a_call_that_arrived_before_a_reset_is_not_logged_after_it(tmp_path):
    """A slow answer finishing late belongs to the log that was cleared, not the next test's."""
    from sandboxes.faceid.store import Store

    store = Store(tmp_path / "faceid.sqlite3")
    arrived = time.time()
    store.reset()
    store.call_log("late", "DetectAuth", MATCH, "0", arrived=arrived)
    store.call_log("fresh", "DetectAuth", MATCH, "0", arrived=time.time())
    assert [call["request_id"] for call in store.calls()] == ["fresh"]
