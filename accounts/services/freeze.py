"""Freezing an account ("this wasn't me") and unfreezing it after review."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.services import record
from lending.errors import DomainError
from lending.pii import redact


class AccountFrozen(DomainError):
    code = "account_frozen"


def ensure_not_frozen(user: User) -> None:
    if user.is_frozen:
        raise AccountFrozen(
            _("Your account is frozen. Sensitive operations are paused until our compliance team reviews it.")
        )


@transaction.atomic
def account_freeze(*, actor: User, user: User, reason: str) -> User:
    """Freeze ``user``: sensitive operations are refused and every other session ends."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_frozen:
        return user
    user.frozen_at = timezone.now()
    user.frozen_reason = redact(reason)[:200]
    user.session_epoch += 1
    user._change_reason = f"frozen: {user.frozen_reason}"
    user.save()
    record(action=Action.ACCOUNT_FROZEN, actor=actor, subject=user, data={"reason": user.frozen_reason})
    notification_create(user=user, kind="account_frozen", link="/accounts/security/")
    return user


@transaction.atomic
def account_unfreeze(*, actor: User, user: User, note: str) -> User:
    """An officer lifts a freeze after review; never on their own account."""
    if not actor.is_staff or not actor.has_perm("accounts.unfreeze_user"):
        raise DomainError(_("You may not unfreeze accounts."), code="forbidden")
    if actor.pk == user.pk:
        raise DomainError(_("Nobody may unfreeze their own account."), code="own_account")
    if not note.strip():
        raise DomainError(_("Give the reason for unfreezing."), code="reason_required")
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_frozen:
        raise DomainError(_("This account is not frozen."), code="not_frozen")
    note = redact(note.strip())[:200]
    user.frozen_at = None
    user.frozen_reason = ""
    user._change_reason = f"unfrozen: {note}"
    user.save()
    record(action=Action.ACCOUNT_UNFROZEN, actor=actor, subject=user, data={"note": note})
    notification_create(user=user, kind="account_unfrozen")
    sms_queue(to=user.phone, template="account_unfrozen", context={}, language=user.language)
    return user
