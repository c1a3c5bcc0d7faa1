"""Tencent Cloud FaceID through its official SDK (tencentcloud-sdk-python-faceid).

The same class serves production and the sandbox: only FACEID_ENDPOINT differs
(``https://faceid.tencentcloudapi.com``, or the simulator in sandboxes/faceid/ over http).
Requests are signed by the SDK (TC3-HMAC-SHA256) with FACEID_SECRET_ID / FACEID_SECRET_KEY.

Result codes (the SDK's models document them):
IdCardVerification ``Result``: 0 match, -1 mismatch, -2/-3 malformed number or name,
-4 authority down, -5 no record, -6 authority upgrading, -7 daily limit.
PhoneVerification ``Result``: 0 match, -4 mismatch, -6/-7/-8 malformed phone/number/name,
-9 no record, -11 carrier busy, -12 daily limit, -13 number range not supported.
GetDetectInfoEnhanced ``Text.ErrCode`` 0 and ``Text.Sim`` (0-100) of at least
FACEID_MIN_SIMILARITY: the borrower passed the liveness and face comparison.

Nothing of the request (name, ID number, phone, image) reaches a log: the SDK logs whole
requests at DEBUG only, and LOGGING keeps its logger at WARNING.
"""

from urllib.parse import urlsplit

from django.conf import settings
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from accounts.identity.base import (
    CheckResult,
    IdentityProvider,
    LivenessResult,
    LivenessStart,
    Outcome,
    ProviderError,
    ProviderUnavailable,
)

ID_RESULTS = {
    "0": Outcome.MATCH,
    "-1": Outcome.MISMATCH,
    "-2": Outcome.MISMATCH,
    "-3": Outcome.MISMATCH,
    "-5": Outcome.NOT_FOUND,
}
ID_UNAVAILABLE = {"-4", "-6", "-7"}
PHONE_RESULTS = {
    "0": Outcome.MATCH,
    "-4": Outcome.MISMATCH,
    "-6": Outcome.MISMATCH,
    "-7": Outcome.MISMATCH,
    "-8": Outcome.MISMATCH,
    "-9": Outcome.NOT_FOUND,
    "-13": Outcome.NOT_FOUND,
}
PHONE_UNAVAILABLE = {"-11", "-12"}

# SDK error codes (or their prefixes) that mean "no answer now" rather than "refused".
UNAVAILABLE_CODES = (
    "ClientNetworkError",  # connection refused, timeout (HttpProfile.reqTimeout)
    "ServerNetworkError",  # an HTTP status other than 200
    "InternalError",
    "RequestLimitExceeded",
    "ResourceUnavailable",
    "FailedOperation.RequestLimitExceeded",
    "FailedOperation.UnKnown",
)
# What an operator reads for the errors that mean the platform's configuration is wrong.
CONFIG_HINTS = {
    "AuthFailure": "check FACEID_SECRET_ID and FACEID_SECRET_KEY",
    "UnauthorizedOperation": "the account is not allowed this action; check the FaceID console",
    "InvalidParameter": "the request was refused as malformed",
    "InvalidParameterValue.RuleIdNotExist": "check FACEID_RULE_ID",
}


def _error(exc: TencentCloudSDKException) -> ProviderError:
    code = exc.get_code() or ""
    request_id = exc.get_request_id() or ""
    if code.startswith(UNAVAILABLE_CODES):
        return ProviderUnavailable(
            f"The identity provider did not answer ({code}); try again later.",
            code=code,
            request_id=request_id,
        )
    matching = [prefix for prefix in CONFIG_HINTS if code.startswith(prefix)]
    hint = CONFIG_HINTS[max(matching, key=len)] if matching else ""
    message = f"The identity provider refused the request ({code})" + (f": {hint}." if hint else ".")
    return ProviderError(message, code=code, request_id=request_id)


def _mainland(phone: str) -> str:
    """``+8613800138000`` -> ``13800138000``: the carrier check takes the 11-digit number."""
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


class TencentIdentityProvider(IdentityProvider):
    def __init__(self):
        endpoint = urlsplit(settings.FACEID_ENDPOINT)
        http = HttpProfile(
            protocol=endpoint.scheme or "https",
            endpoint=endpoint.netloc or endpoint.path,
            reqTimeout=settings.FACEID_TIMEOUT,
        )
        self.client = faceid_client.FaceidClient(
            credential.Credential(settings.FACEID_SECRET_ID, settings.FACEID_SECRET_KEY),
            settings.FACEID_REGION,
            ClientProfile(httpProfile=http, language="en-US"),
        )

    def _call(self, action: str, request):
        try:
            return getattr(self.client, action)(request)
        except TencentCloudSDKException as exc:
            raise _error(exc) from None
        except ValueError as exc:  # an answer that is not the provider's JSON
            raise ProviderUnavailable(
                f"The identity provider's answer was unreadable ({exc.__class__.__name__})."
            ) from None

    def id_check(self, *, name: str, id_number: str) -> CheckResult:
        request = models.IdCardVerificationRequest()
        request.Name, request.IdCard = name, id_number
        response = self._call("IdCardVerification", request)
        return self._outcome(response, ID_RESULTS, ID_UNAVAILABLE)

    def phone_check(self, *, name: str, id_number: str, phone: str) -> CheckResult:
        request = models.PhoneVerificationRequest()
        request.Name, request.IdCard, request.Phone = name, id_number, _mainland(phone)
        response = self._call("PhoneVerification", request)
        return self._outcome(response, PHONE_RESULTS, PHONE_UNAVAILABLE)

    @staticmethod
    def _outcome(response, results: dict, unavailable: set) -> CheckResult:
        code = str(response.Result)
        if code in unavailable or code not in results:
            raise ProviderUnavailable(
                f"The identity provider could not check now (result {code}); try again later.",
                code=f"Result{code}",
                request_id=response.RequestId or "",
            )
        return CheckResult(outcome=results[code], request_id=response.RequestId or "", detail=code)

    def liveness_start(self, *, name: str, id_number: str, return_url: str) -> LivenessStart:
        request = models.DetectAuthRequest()
        request.RuleId = settings.FACEID_RULE_ID
        request.Name, request.IdCard, request.RedirectUrl = name, id_number, return_url
        response = self._call("DetectAuth", request)
        if not (response.Url and response.BizToken):
            raise ProviderUnavailable("The identity provider gave no liveness page; try again later.")
        return LivenessStart(
            url=response.Url, biz_token=response.BizToken, request_id=response.RequestId or ""
        )

    def liveness_result(self, *, biz_token: str) -> LivenessResult:
        request = models.GetDetectInfoEnhancedRequest()
        request.BizToken, request.RuleId, request.InfoType = biz_token, settings.FACEID_RULE_ID, "1"
        response = self._call("GetDetectInfoEnhanced", request)
        text = response.Text
        request_id = response.RequestId or ""
        if text is None or text.ErrCode is None:
            return LivenessResult(finished=False, passed=False, similarity=None, request_id=request_id)
        try:
            similarity = float(text.Sim) if text.Sim not in (None, "") else None
        except ValueError:
            similarity = None
        passed = text.ErrCode == 0 and similarity is not None and similarity >= settings.FACEID_MIN_SIMILARITY
        return LivenessResult(
            finished=True,
            passed=passed,
            similarity=similarity,
            request_id=request_id,
            detail=str(text.ErrCode),
        )
