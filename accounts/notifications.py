"""In-app notification texts, rendered in the reader's language when shown."""

from django.utils.translation import gettext_lazy as _

TEXTS = {
    "phone_changed": (
        _("Your phone number was changed"),
        _(
            "Your account is now bound to %(new)s instead of %(old)s. "
            "If this wasn't you, freeze your account now."
        ),
    ),
    "password_changed": (
        _("Your password was changed"),
        _("Your sign-in password was changed and your other devices were signed out."),
    ),
    "password_reset": (
        _("Your password was reset"),
        _("Your password was reset with an SMS code and every device was signed out."),
    ),
    "identity_verified": (
        _("Identity verified"),
        _("Your real name and ID number %(id_number)s are verified."),
    ),
    "account_frozen": (
        _("Your account is frozen"),
        _("Sensitive operations are paused until our compliance team has reviewed your account."),
    ),
    "account_unfreeze_refused": (
        _("Your account stays frozen"),
        _("Our compliance team reviewed your account and keeps it frozen: %(reason)s"),
    ),
    "phone_lost_rejected": (
        _("Your lost-phone request was not approved"),
        _("Your number was not changed: %(reason)s"),
    ),
    "account_unfrozen": (
        _("Your account is unfrozen"),
        _("Our compliance team reviewed your account; you can use it normally again."),
    ),
}


def render(kind: str, params: dict) -> tuple[str, str]:
    title, body = TEXTS[kind]
    return str(title), str(body) % params if params else str(body)
