"""What the platform asks an identity provider, and what it answers.

Three checks (DESIGN.md section 5, "Identity checks"): name + ID number against the
authority (two elements), name + ID number + mobile number against the carrier (three
elements), and a face liveness check compared with the ID photo, done in a page the
provider hosts. Answers carry the provider's request id, which goes to the audit trail;
they never carry the name, the number or any image.
"""

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"  # the elements do not belong together
    NOT_FOUND = "not_found"  # the authority or carrier holds no record to compare with


class ProviderError(Exception):
    """The provider refused the request itself (bad credentials, bad input, quota).

    ``code`` is the provider's error code; the message is for operators, never shown to borrowers.
    """

    def __init__(self, message: str, *, code: str = "", request_id: str = ""):
        super().__init__(message)
        self.code = code
        self.request_id = request_id


class ProviderUnavailable(ProviderError):
    """No answer could be had now (timeout, network, 5xx, the provider's own outage): try later."""


@dataclass(frozen=True)
class CheckResult:
    outcome: Outcome
    request_id: str
    detail: str = ""  # the provider's result code, for the audit trail (never which element differs)

    @property
    def matched(self) -> bool:
        return self.outcome == Outcome.MATCH


@dataclass(frozen=True)
class LivenessStart:
    url: str  # where the borrower is sent
    biz_token: str  # comes back on the return URL; the result is fetched with it
    request_id: str


@dataclass(frozen=True)
class LivenessResult:
    finished: bool  # the borrower went through the page
    passed: bool  # alive and the same person as the ID photo
    similarity: float | None  # 0-100, compared with the ID photo
    request_id: str
    detail: str = ""


class IdentityProvider:
    """The interface every provider adapter implements."""

    def id_check(self, *, name: str, id_number: str) -> CheckResult:
        raise NotImplementedError

    def phone_check(self, *, name: str, id_number: str, phone: str) -> CheckResult:
        raise NotImplementedError

    def liveness_start(self, *, name: str, id_number: str, return_url: str) -> LivenessStart:
        raise NotImplementedError

    def liveness_result(self, *, biz_token: str) -> LivenessResult:
        raise NotImplementedError
