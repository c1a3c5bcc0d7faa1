"""Changing and resetting the sign-in password."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services.codes import CodeRefused, Purpose, sms_code_send, sms_code_verify
from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.services import record


def _password_set(*, user_id: int, new_password: str, reason: str, action: Action, notice: str) -> User:
    """Set the password and end every session but the caller's (the view refreshes its own)."""
    user = User.objects.select_for_update().get(pk=user_id)
    user.set_password(new_password)
    user.session_epoch += 1
    user._change_reason = reason
    user.save()
    record(action=action, actor=user, subject=user)
    sms_queue(to=user.phone, template="password_changed", context={}, language=user.language)
    notification_create(user=user, kind=notice)
    return user


@transaction.atomic
def password_change(*, actor: User, new_password: str) -> User:
    """Set a new password (the view checked the old one); every other session ends."""
    return _password_set(
        user_id=actor.pk,
        new_password=new_password,
        reason="password changed",
        action=Action.PASSWORD_CHANGED,
        notice="password_changed",
    )


def password_reset_start(*, phone: str) -> None:
    """Send a reset code. A number without an account is treated the same, minus the SMS."""
    user = User.objects.filter(phone=phone, is_staff=False).first()
    sms_code_send(
        purpose=Purpose.PASSWORD_RESET, target=phone, phone=phone, user=user, deliver=user is not None
    )


def password_reset_complete(*, phone: str, code: str, new_password: str) -> User:
    """Set a new password once the reset code checks out; every session ends.

    The borrower then signs in with password and SMS code: a reset never skips the second factor.
    """
    user = User.objects.filter(phone=phone, is_staff=False).first()
    sms_code_verify(purpose=Purpose.PASSWORD_RESET, target=phone, code=code, user=user)
    if user is None:  # only a lucky guess of a code never sent gets here
        raise CodeRefused(_("This code can no longer be used. Request a new code."))
    with transaction.atomic():
        return _password_set(
            user_id=user.pk,
            new_password=new_password,
            reason="password reset by SMS code",
            action=Action.PASSWORD_RESET,
            notice="password_reset",
        )
