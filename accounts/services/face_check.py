"""Face liveness checks at the identity provider (the hosted page), for any step that needs one.

The borrower first accepts the biometrics consent (its own versioned text, recorded and
committed before the provider hears of the borrower), then goes to the provider's page and
comes back with its token; the result is fetched from the provider, never taken from the
browser. Only the result is kept (FaceCheck): pass or not, the similarity, request ids.
"""

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import ProviderError, ProviderUnavailable, get_provider
from accounts.models import FaceCheck, PhoneChange, User
from accounts.policies import Policy
from accounts.services.registration import consent_record
from audit.actions import Action
from audit.services import record
from lending.errors import DomainError

log = logging.getLogger(__name__)


class FaceCheckRefused(DomainError):
    code = "face_check_refused"


def _unavailable(exc: ProviderError) -> FaceCheckRefused:
    level = logging.WARNING if isinstance(exc, ProviderUnavailable) else logging.ERROR
    log.log(level, "face check not answered: %s (request %s)", exc, exc.request_id or "-")
    return FaceCheckRefused(
        _("The face check is not available just now. Nothing was changed; try again later."),
        code="provider_unavailable",
    )


def face_check_start(
    *,
    user: User,
    purpose: str,
    policy: Policy,
    return_url: str,
    phone_change: PhoneChange | None = None,
    review_case=None,
) -> FaceCheck:
    """Record the biometrics consent, then open a liveness session at the provider (for a
    lost-phone request, or for the review case a passing check would clear)."""
    if policy.document != "biometrics":
        raise ValueError("a face check needs the biometrics consent")
    with transaction.atomic():
        consent = consent_record(actor=user, policy=policy)
    identity = user.identity
    try:
        start = get_provider().liveness_start(
            name=identity.real_name, id_number=identity.id_number, return_url=return_url
        )
    except ProviderError as exc:
        raise _unavailable(exc) from None
    with transaction.atomic():
        check = FaceCheck.objects.create(
            user=user,
            purpose=purpose,
            phone_change=phone_change,
            review_case=review_case,
            consent=consent,
            biz_token=start.biz_token,
            liveness_url=start.url,
            start_request_id=start.request_id,
        )
        record(
            action=Action.FACE_CHECK_STARTED,
            actor=user,
            subject=check,
            data={
                "purpose": purpose,
                "consent": consent.pk,
                "provider_request_id": start.request_id,
                **({"case": review_case.pk} if review_case else {}),
            },
        )
    return check


def face_check_finish(*, check: FaceCheck) -> FaceCheck:
    """Fetch the result of a check the borrower came back from and keep it (once)."""
    if check.status != FaceCheck.Status.PENDING:
        return check
    try:
        result = get_provider().liveness_result(biz_token=check.biz_token)
    except ProviderError as exc:
        raise _unavailable(exc) from None
    with transaction.atomic():
        check = FaceCheck.objects.select_for_update().get(pk=check.pk)
        if check.status != FaceCheck.Status.PENDING:
            return check
        if not result.finished:
            check.status = FaceCheck.Status.UNFINISHED
        else:
            check.status = FaceCheck.Status.PASSED if result.passed else FaceCheck.Status.FAILED
            check.similarity = Decimal(str(result.similarity)) if result.similarity is not None else None
        check.result_request_id = result.request_id
        check.checked_at = timezone.now()
        check.save()
        record(
            action=Action.FACE_CHECKED,
            actor=check.user,
            subject=check,
            data={
                "purpose": check.purpose,
                "result": check.status,
                "similarity": str(check.similarity) if check.similarity is not None else None,
                "provider_request_id": result.request_id,
                **({"case": check.review_case_id} if check.review_case_id else {}),
            },
        )
    return check
