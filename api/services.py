"""Every state change of the app API's own records, one function each (DESIGN.md section 7).

The flows themselves (sign-in, cards, phone change...) are the other apps' services; these are
only what an app's sign-in on a device adds: tickets between the two factors, device tokens.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from api.models import DeviceToken, LostPhoneTicket, SignInTicket
from audit.actions import Action
from audit.services import record
from lending.errors import DomainError
from lending.prepared import Prepared

TOKEN_PREFIX = "dt_"  # noqa: S105 - a prefix, not a secret
TICKET_PREFIX = "st_"
LOST_PHONE_PREFIX = "lp_"
LOST_PHONE_TICKET_DAYS = 30  # the page's session keeps following its request as long


class TokenRefused(DomainError):
    code = "token_refused"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def auth_hash_of(user: User) -> str:
    """The hash that web sessions carry too: it changes with the password and session_epoch."""
    return user.get_session_auth_hash()


def token_is_live(token: DeviceToken, user: User, now=None) -> bool:
    """Not revoked, not idle or too old, and issued under the account's current auth hash."""
    now = now or timezone.now()
    return (
        token.revoked_at is None
        and now - token.last_used_at <= timedelta(days=settings.API_TOKEN_IDLE_DAYS)
        and now - token.created_at <= timedelta(days=settings.API_TOKEN_MAX_DAYS)
        and hmac.compare_digest(token.auth_hash, auth_hash_of(user))
    )


@transaction.atomic
def sign_in_ticket_create(*, user: User, device_id: str, device_name: str) -> str:
    """The first factor passed: a ticket (returned once, kept as a digest) for the second."""
    ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
    SignInTicket.objects.filter(expires_at__lt=timezone.now()).delete()
    SignInTicket.objects.create(
        user=user,
        ticket_hash=digest(ticket),
        device_id=device_id,
        device_name=device_name,
        expires_at=timezone.now() + timedelta(minutes=settings.LOGIN_PENDING_MINUTES),
    )
    return ticket


def sign_in_ticket_find(ticket: str) -> SignInTicket:
    found = (
        SignInTicket.objects.select_related("user")
        .filter(ticket_hash=digest(ticket or ""), expires_at__gte=timezone.now(), user__is_active=True)
        .first()
    )
    if found is None:
        raise TokenRefused(_("Sign in with your mobile number and password."), code="sign_in_expired")
    return found


@transaction.atomic
def lost_phone_ticket_create(*, change) -> str:
    """A lost-phone request was opened from an app: a ticket (returned once) to follow it."""
    ticket = LOST_PHONE_PREFIX + secrets.token_urlsafe(32)
    LostPhoneTicket.objects.create(
        change=change,
        ticket_hash=digest(ticket),
        expires_at=timezone.now() + timedelta(days=LOST_PHONE_TICKET_DAYS),
    )
    return ticket


def lost_phone_ticket_find(ticket: str):
    """The request the ticket follows (TokenRefused when none)."""
    found = (
        LostPhoneTicket.objects.select_related("change__user")
        .filter(ticket_hash=digest(ticket or ""), expires_at__gte=timezone.now())
        .first()
    )
    if found is None:
        raise TokenRefused(_("This request has expired. Start again."), code="expired")
    return found.change


@transaction.atomic
def device_token_create(*, user: User, device_id: str, device_name: str, ticket: SignInTicket | None = None):
    """Both factors passed: a token for this device (returned once, kept as a digest).

    A device signs in once: its earlier token ends. Returns (token row, secret).
    """
    if ticket is not None:
        SignInTicket.objects.filter(pk=ticket.pk).delete()
    now = timezone.now()
    for old in DeviceToken.objects.select_for_update().filter(
        user=user, device_id=device_id, revoked_at__isnull=True
    ):
        _revoke(old, actor=user, why="signed in again")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = DeviceToken.objects.create(
        user=user,
        token_hash=digest(secret),
        device_id=device_id,
        device_name=device_name,
        auth_hash=auth_hash_of(user),
        created_at=now,
        last_used_at=now,
        reauth_at=now,  # like a web sign-in: the password was just typed
    )
    record(
        action=Action.DEVICE_TOKEN_CREATED,
        actor=user,
        subject=user,
        data={"token": token.pk, "device": device_name},
    )
    return token, secret


def _revoke(token: DeviceToken, *, actor: User, why: str) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        action=Action.DEVICE_TOKEN_REVOKED,
        actor=actor,
        subject=token.user,
        data={"token": token.pk, "device": token.device_name, "why": why},
    )


@transaction.atomic
def device_token_revoke(*, actor: User, token_id: int, why: str = "signed out") -> DeviceToken:
    """Sign the app out on one of the borrower's devices (DoesNotExist for anyone else's)."""
    token = DeviceToken.objects.select_for_update().get(pk=token_id, user=actor)
    if token.revoked_at is None:
        _revoke(token, actor=actor, why=why)
    return token


@transaction.atomic
def device_tokens_revoke_all(*, actor: User) -> int:
    """Sign the app out on every device of the borrower; returns how many were signed in."""
    tokens = list(DeviceToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True))
    for token in tokens:
        _revoke(token, actor=actor, why="signed out everywhere")
    return len(tokens)


@transaction.atomic
def sessions_end_all(*, actor: User) -> User:
    """End every web session and every app token of the borrower, the caller's own included."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    user.session_epoch += 1
    user._change_reason = "signed out everywhere"
    user.save(update_fields=["session_epoch"])
    DeviceToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record(action=Action.SIGNED_OUT_EVERYWHERE, actor=actor, subject=user)
    return user


def device_token_keep(*, token: DeviceToken, user: User) -> None:
    """The caller's own token survives a change it made itself (a password or phone change, a
    freeze), as the caller's web session does (update_session_auth_hash); the others end."""
    token.auth_hash = auth_hash_of(user)
    DeviceToken.objects.filter(pk=token.pk).update(auth_hash=token.auth_hash)


def device_token_reauth(*, token: DeviceToken) -> None:
    """The password was typed again on this device (the audit event is reauth_record's)."""
    token.reauth_at = timezone.now()
    DeviceToken.objects.filter(pk=token.pk).update(reauth_at=token.reauth_at)


def device_token_touch(*, token: DeviceToken, now) -> None:
    """Note the token's use, at most once a minute (not a write per request)."""
    if now - token.last_used_at >= timedelta(seconds=60):
        token.last_used_at = now
        DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)


_unrevoked_tokens = Prepared(  # the security page reads them on every view: compiled once
    lambda user_id: DeviceToken.objects.filter(user_id=user_id, revoked_at__isnull=True).order_by("-id"), int
)


def live_tokens(user: User):
    """The borrower's signed-in devices, newest first."""
    now = timezone.now()
    return [token for token in _unrevoked_tokens(user.pk) if token_is_live(token, user, now)]


def api_records_purge() -> int:
    """Forget what no longer answers anything: idempotent answers past API_IDEMPOTENCY_HOURS,
    expired sign-in tickets, and tokens ended more than API_TOKEN_MAX_DAYS ago. Returns rows deleted."""
    from api.models import IdempotentRequest

    now = timezone.now()
    deleted = IdempotentRequest.objects.filter(
        created_at__lt=now - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    ).delete()[0]
    deleted += SignInTicket.objects.filter(expires_at__lt=now).delete()[0]
    deleted += LostPhoneTicket.objects.filter(expires_at__lt=now).delete()[0]
    long_ago = now - timedelta(days=settings.API_TOKEN_MAX_DAYS)
    deleted += DeviceToken.objects.filter(created_at__lt=long_ago - timedelta(days=1)).delete()[0]
    return deleted
