"""Checking the TC3-HMAC-SHA256 signature the Tencent Cloud SDK puts on every request.

Written here (stdlib hmac) because the simulator imports nothing from the platform and the
SDK only signs; the steps are Tencent Cloud's published "signature v3":
canonical request -> string to sign -> key derived from the SecretKey, date and service.
"""

import hashlib
import hmac
import re
import time
from datetime import UTC, datetime

SERVICE = "faceid"
MAX_SKEW_SECONDS = 300
AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


class Refused(Exception):
    """The SDK's error code for a bad signature, and its message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature(secret_key: str, *, date: str, timestamp: str, canonical_request: str) -> str:
    scope = f"{date}/{SERVICE}/tc3_request"
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    string_to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{digest}"
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def check(
    secrets: dict[str, str], method: str, path: str, headers, body: bytes, now: float | None = None
) -> str:
    """The SecretId that signed the request; raises Refused otherwise."""
    match = AUTHORIZATION.fullmatch(headers.get("Authorization", ""))
    if not match or match["service"] != SERVICE:
        raise Refused("AuthFailure.SignatureFailure", "The Authorization header is missing or malformed.")
    secret_key = secrets.get(match["secret_id"])
    if secret_key is None:
        raise Refused("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
    try:
        timestamp = int(headers.get("X-TC-Timestamp", ""))
    except ValueError:
        raise Refused("AuthFailure.SignatureFailure", "X-TC-Timestamp is missing.") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        raise Refused("AuthFailure.SignatureExpire", "The request's timestamp is more than 5 minutes off.")
    if datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") != match["date"]:
        raise Refused("AuthFailure.SignatureFailure", "The credential's date is not the timestamp's.")
    names = match["signed"].split(";")
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names)
    payload = body if method == "POST" else b""
    query = path.partition("?")[2] if method == "GET" else ""
    canonical_request = "\n".join(
        (
            method,
            path.partition("?")[0] or "/",
            query,
            canonical_headers,
            match["signed"],
            hashlib.sha256(payload).hexdigest(),
        )
    )
    expected = signature(
        secret_key, date=match["date"], timestamp=str(timestamp), canonical_request=canonical_request
    )
    if not hmac.compare_digest(expected, match["signature"]):
        raise Refused("AuthFailure.SignatureFailure", "The request's signature does not match.")
    return match["secret_id"]
