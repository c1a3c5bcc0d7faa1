"""Freezing an account ("this wasn't me", or a high-severity risk alert); unfreezing follows a review case."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.models import ReviewCase
from audit.risk import Assessment, Reason
from audit.services import record, review_case_open
from lending.errors import DomainError
from lending.pii import redact

UNFREEZE = "account_unfreeze"


class AccountFrozen(DomainError):
    code = "account_frozen"


def ensure_not_frozen(user: User) -> None:
    """Refuse sensitive operations of a frozen account (read from the database, not the caller's copy)."""
    if User.objects.filter(pk=user.pk, frozen_at__isnull=False).exists():
        raise AccountFrozen(
            _("Your account is frozen. Sensitive operations are paused until our compliance team reviews it.")
        )


@transaction.atomic
def account_freeze(*, actor: User | None, user: User, reason: str) -> User:
    """Freeze ``user``: sensitive operations are refused, every other session ends, and a
    review case asks an officer to check the account and unfreeze it."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_frozen:
        return user
    user.frozen_at = timezone.now()
    user.frozen_reason = redact(reason[:200])
    user.session_epoch += 1
    user._change_reason = f"frozen: {user.frozen_reason}"
    user.save()
    record(action=Action.ACCOUNT_FROZEN, actor=actor, subject=user, data={"reason": user.frozen_reason})
    notification_create(user=user, kind="account_frozen", link="/accounts/security/")
    review_case_open(
        kind=UNFREEZE,
        subject=user,
        borrower=user,
        requested_by=actor,
        risk=Assessment((Reason("account_frozen", user.frozen_reason, 0),)),
    )
    return user


def account_unfreeze(case: ReviewCase, officer: User) -> None:
    """Approve action of an unfreeze case: lift the freeze and tell the borrower."""
    user = User.objects.select_for_update().get(pk=case.borrower_id)
    if not user.is_frozen:
        raise DomainError(_("This account is not frozen any more."), code="not_frozen")
    user.frozen_at = None
    user.frozen_reason = ""
    user._change_reason = f"unfrozen after review case #{case.pk}"
    user.save()
    record(action=Action.ACCOUNT_UNFROZEN, actor=officer, subject=user, data={"case": case.pk})
    notification_create(user=user, kind="account_unfrozen")
    sms_queue(to=user.phone, template="account_unfrozen", context={}, language=user.language)


def account_unfreeze_refused(case: ReviewCase, officer: User | None, reason: str) -> None:
    """Reject action of an unfreeze case: the account stays frozen; the borrower learns why."""
    user = User.objects.get(pk=case.borrower_id)
    notification_create(user=user, kind="account_unfreeze_refused", params={"reason": reason})
