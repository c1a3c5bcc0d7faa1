"""The carrier's three-element check (name + ID number + mobile number), kept as evidence.

A provider that does not answer never passes the check: the result is "unavailable" and the
step goes on as if the number were unconfirmed.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.identity import CheckResult, Outcome, ProviderError, get_provider
from accounts.models import Identity, PhoneChange, PhoneCheck, User
from accounts.selectors import account_phone_check
from audit.actions import Action
from audit.services import record
from lending.pii import mask_phone

log = logging.getLogger(__name__)


def carrier_check(*, name: str, id_number: str, phone) -> CheckResult | None:
    """Ask the carrier (no database write); None when the provider did not answer."""
    try:
        return get_provider().phone_check(name=name, id_number=id_number, phone=str(phone))
    except ProviderError as exc:
        log.warning("carrier check not answered: %s (request %s)", exc, exc.request_id or "-")
        return None


def phone_check_record(
    *, user: User, purpose: str, phone, result: CheckResult | None, phone_change: PhoneChange | None = None
) -> PhoneCheck:
    """Keep the carrier's answer (inside the caller's transaction)."""
    return PhoneCheck.objects.create(
        user=user,
        purpose=purpose,
        phone_change=phone_change,
        phone_masked=mask_phone(phone),
        outcome=PhoneCheck.Outcome.UNAVAILABLE if result is None else PhoneCheck.Outcome(str(result.outcome)),
        provider_request_id=result.request_id if result else "",
    )


def identity_carrier_check(identity: Identity, phone) -> CheckResult | None:
    return carrier_check(name=identity.real_name, id_number=identity.id_number, phone=phone)


def account_phone_recheck_due(user: User) -> bool:
    """The carrier gave no answer for the account phone (or was never asked while the borrower
    had an identity), at least ACCOUNT_PHONE_RECHECK_MINUTES ago."""
    if not Identity.objects.filter(user=user).exists() or not user.phone:
        return False
    latest = account_phone_check(user)
    if latest is None:
        return True
    waited = timezone.now() - latest.checked_at >= timedelta(minutes=settings.ACCOUNT_PHONE_RECHECK_MINUTES)
    return latest.outcome == PhoneCheck.Outcome.UNAVAILABLE and waited


def account_phone_recheck(*, user_id: int) -> PhoneCheck | None:
    """Ask the carrier again about the account phone when it is due (loans wait for a yes); the
    answer is kept like any other. None when not due, or when the number changed meanwhile."""
    user = User.objects.get(pk=user_id)
    if not account_phone_recheck_due(user):
        return None
    phone = str(user.phone)
    result = identity_carrier_check(Identity.objects.get(user=user), phone)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if str(user.phone) != phone:
            return None
        check = phone_check_record(
            user=user, purpose=PhoneCheck.Purpose.ACCOUNT_PHONE, phone=phone, result=result
        )
        data = {
            "phone": check.phone_masked,
            "outcome": check.outcome,
            "provider_request_id": check.provider_request_id,
        }
        record(action=Action.ACCOUNT_PHONE_CHECKED, actor=None, subject=user, data=data)
    return check


def account_phones_recheck(*, limit: int = 200) -> int:
    """Beat: ask again about the account phones whose carrier check had no answer within the last
    ACCOUNT_PHONE_RECHECK_DAYS (at most ``limit`` a run). Returns how many were asked."""
    since = timezone.now() - timedelta(days=settings.ACCOUNT_PHONE_RECHECK_DAYS)
    user_ids = (
        PhoneCheck.objects.filter(outcome=PhoneCheck.Outcome.UNAVAILABLE, checked_at__gte=since)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    asked = 0
    for user_id in user_ids.iterator():
        if asked >= limit:
            break
        if account_phone_recheck(user_id=user_id) is not None:
            asked += 1
    return asked


__all__ = [
    "Outcome",
    "account_phone_recheck",
    "account_phones_recheck",
    "carrier_check",
    "identity_carrier_check",
    "phone_check_record",
]
