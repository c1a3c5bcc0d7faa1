"""The carrier's three-element check (name + ID number + mobile number), kept as evidence.

A provider that does not answer never passes the check: the result is "unavailable" and the
step goes on as if the number were unconfirmed.
"""

import logging

from accounts.identity import CheckResult, Outcome, ProviderError, get_provider
from accounts.models import Identity, PhoneChange, PhoneCheck, User
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


__all__ = ["Outcome", "carrier_check", "identity_carrier_check", "phone_check_record"]
