"""Changing and resetting the sign-in password."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services.codes import CodeRefused, Purpose, sms_code_send, sms_code_verify
from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.services import record


@transaction.atomic
def password_change(*, actor: User, new_password: str) -> User:
    """Set a new password (the form checked the old one); every other session ends."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    user.set_password(new_password)
    user._change_reason = "password changed"
    user.save()
    record(action=Action.PASSWORD_CHANGED, actor=actor, subject=user)
    sms_queue(to=user.phone, template="password_changed", context={}, language=user.language)
    notification_create(user=user, kind="password_changed")
    return user


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
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(new_password)
        user.session_epoch += 1
        user._change_reason = "password reset by SMS code"
        user.save()
        record(action=Action.PASSWORD_RESET, actor=user, subject=user)
        sms_queue(to=user.phone, template="password_changed", context={}, language=user.language)
        notification_create(user=user, kind="password_reset")
    return user
