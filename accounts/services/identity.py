"""Real-name verification: one identity per account and one account per identity.

The name and ID number are checked with the authority through the identity provider
(accounts/identity/) before anything is saved. The provider is asked outside any
transaction (it may take seconds), between two short ones: the first refuses what needs no
provider (frozen, already verified, an ID number of another account, too many mismatches
today), the second records the answer. A mismatch never says which element differs; a
provider that does not answer changes nothing and the borrower tries again later.
Once the identity matches, the carrier is asked whether the account phone is in the same
name (three elements); its answer is kept (PhoneCheck) and never refuses the identity.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.identity import ProviderError, ProviderUnavailable, get_provider
from accounts.models import Identity, PhoneCheck, User
from accounts.services.freeze import ensure_not_frozen
from accounts.services.notifications import notification_create
from accounts.services.phone_check import carrier_check, phone_check_record
from accounts.validators import real_name as clean_real_name
from accounts.validators import resident_id
from audit import risk
from audit.actions import Action
from audit.context import current_request
from audit.models import AuditEvent
from audit.services import record, risk_alert_raise
from lending.crypto import encrypt
from lending.db import advisory_xact_lock
from lending.errors import DomainError

log = logging.getLogger(__name__)


class IdentityRefused(DomainError):
    code = "identity_refused"


class IdentityLimitReached(IdentityRefused):
    """Too many identity checks from one client IP (IDENTITY_CHECKS_PER_IP_DAY): the provider
    is not asked until ``retry_at``."""

    def __init__(self, message, *, code, retry_at: datetime):
        super().__init__(message, code=code)
        self.retry_at = retry_at


def _mismatches_today(user: User) -> int:
    since = timezone.now() - timedelta(days=1)
    return AuditEvent.objects.filter(
        action=Action.IDENTITY_MISMATCH,
        subject_type="accounts.user",
        subject_id=str(user.pk),
        occurred_at__gt=since,
    ).count()


def _refusal_before_check(user: User, id_hash: str, masked: str, actor: User) -> IdentityRefused | None:
    """What refuses the request without asking the provider (inside the caller's transaction)."""
    ensure_not_frozen(user)
    if Identity.objects.filter(user=user).exists():
        raise IdentityRefused(_("Your identity is already verified."), code="already_verified")
    if Identity.objects.filter(id_number_hash=id_hash).exists():
        record(action=Action.IDENTITY_REFUSED, actor=actor, subject=user, data={"id_number": masked})
        return IdentityRefused(
            _(
                "This ID number is already verified on another account. "
                "Contact customer service if it is yours."
            ),
            code="taken",
        )
    if _mismatches_today(user) >= settings.IDENTITY_MISMATCHES_PER_DAY:
        raise IdentityRefused(
            _(
                "Too many identity checks did not match today. "
                "Try again tomorrow or contact customer service."
            ),
            code="too_many_mismatches",
        )
    return None


def identity_check_count(*, actor: User, masked: str) -> IdentityLimitReached | None:
    """Count the check about to be asked against IDENTITY_CHECKS_PER_IP_DAY for the request's
    client IP (inside the caller's transaction, under a lock so two at once cannot both take the
    last one): recorded when allowed, else the refusal (recorded) saying when to try again.
    The next check is allowed 24 h after the n-th newest. Without a client IP (a shell, a task)
    nothing is counted."""
    context = current_request()
    ip = context.ip if context else None
    if not ip:
        return None
    advisory_xact_lock(f"identity-check:ip:{ip}")
    limit, window = settings.IDENTITY_CHECKS_PER_IP_DAY, timedelta(days=1)
    times = list(
        AuditEvent.objects.filter(
            action=Action.IDENTITY_CHECK_REQUESTED, ip=ip, occurred_at__gt=timezone.now() - window
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[:limit]
    )
    if len(times) < limit:
        record(action=Action.IDENTITY_CHECK_REQUESTED, actor=actor, subject=actor, data={"id_number": masked})
        return None
    retry_at = (times[-1] if times else timezone.now()) + window  # (a limit of 0: none at all)
    data = {"id_number": masked, "why": "too_many_checks_ip", "until": retry_at.isoformat()}
    record(action=Action.IDENTITY_REFUSED, actor=actor, subject=actor, data=data)
    when = formats.date_format(timezone.localtime(retry_at), "DATETIME_FORMAT")
    return IdentityLimitReached(
        _("Too many identity checks were made from your network today. Try again after %(time)s.")
        % {"time": when},
        code="too_many_checks_ip",
        retry_at=retry_at,
    )


def _provider_check(name: str, number: str):
    try:
        return get_provider().id_check(name=name, id_number=number)
    except ProviderError as exc:
        level = logging.WARNING if isinstance(exc, ProviderUnavailable) else logging.ERROR
        log.log(level, "identity check not answered: %s (request %s)", exc, exc.request_id or "-")
        raise IdentityRefused(
            _("We could not check your identity just now. Nothing was saved; try again later."),
            code="provider_unavailable",
        ) from None


@transaction.atomic
def identity_mismatch_record(*, actor: User, masked: str, outcome: str, request_id: str) -> None:
    """The authority's "no match" goes on the audit trail; past the daily threshold, an alert."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    data = {"id_number": masked, "outcome": outcome, "provider_request_id": request_id}
    record(action=Action.IDENTITY_MISMATCH, actor=actor, subject=user, data=data)
    count = risk.IDENTITY_MISMATCHES.count(user_id=user.pk)
    if count > risk.IDENTITY_MISMATCHES.limit:
        now = timezone.now()
        finding = risk.Finding(risk.IDENTITY_MISMATCHES, risk.USER, str(user.pk), user.pk, count, now)
        risk_alert_raise(finding=finding, now=now)


def identity_verify(*, actor: User, real_name: str, id_number: str) -> Identity:
    """Check the real name and ID number with the authority, then store them (encrypted,
    fingerprinted, masked).

    An ID number already verified on another account is refused with an audit event.
    """
    name = clean_real_name(real_name)
    number, birth_date = resident_id(id_number)
    id_hash = Identity.hash_of(number)
    masked = Identity.masked(number)
    with transaction.atomic(durable=True):
        refusal = _refusal_before_check(
            User.objects.select_for_update().get(pk=actor.pk), id_hash, masked, actor
        ) or identity_check_count(actor=actor, masked=masked)
    if refusal:
        raise refusal
    result = _provider_check(name, number)
    if not result.matched:
        identity_mismatch_record(
            actor=actor, masked=masked, outcome=result.outcome, request_id=result.request_id
        )
        raise IdentityRefused(
            _("The name and ID number do not match the official records. Check both and try again."),
            code="mismatch",
        )
    carrier = carrier_check(name=name, id_number=number, phone=actor.phone)
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=actor.pk)
        advisory_xact_lock(f"identity:{id_hash}")
        refusal = _refusal_before_check(user, id_hash, masked, actor)
        if refusal is None:
            try:
                with transaction.atomic():
                    identity = Identity(
                        user=user,
                        real_name=name,
                        id_number_encrypted=encrypt(number),
                        id_number_hash=id_hash,
                        id_number_masked=masked,
                        birth_date=birth_date,
                    )
                    identity._change_reason = "identity verified"
                    identity.save()
            except IntegrityError:
                raise IdentityRefused(
                    _("Your identity could not be saved. Try again."), code="conflict"
                ) from None
            phone_check = phone_check_record(
                user=user, purpose=PhoneCheck.Purpose.IDENTITY, phone=user.phone, result=carrier
            )
            data = {
                "id_number": masked,
                "provider_request_id": result.request_id,
                "phone_check": phone_check.outcome,
                "phone_check_request_id": phone_check.provider_request_id,
            }
            record(action=Action.IDENTITY_VERIFIED, actor=actor, subject=identity, data=data)
            notification_create(user=user, kind="identity_verified", params={"id_number": masked})
    if refusal:
        raise refusal
    return identity
