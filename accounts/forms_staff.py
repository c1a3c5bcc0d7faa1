"""The back office's sign-in form: django-otp's admin form (username, password and code in one
form, the password checked again on every submit) with the password step through the lockout
of accounts.services.login, and the second factor's outcome in the audit trail. django-otp's own
throttle on each device stays."""

from django import forms
from django.db.models.fields import BLANK_CHOICE_DASH
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from accounts.services.login import (
    LoginRefused,
    staff_login_record,
    staff_password_check,
    staff_second_factor_failure_record,
)

# The second factor, named from the device's persistent id ("<app_label>.<model>/<pk>").
FACTORS = {"otp_totp.totpdevice": "totp", "otp_static.staticdevice": "backup_code"}
# The refusals of a code that was tried: django-otp's "invalid token", and its throttle (no code).
GUESSES = {"invalid_token": "wrong_code", None: "throttled"}
# What staff read in the device list (the devices' stored names are codes: "authenticator", "backup").
FACTOR_LABELS = {"totp": _("Authenticator app"), "backup_code": _("Backup code")}


def _factor(persistent_id: str) -> str:
    return FACTORS.get(persistent_id.partition("/")[0], "other")


class BackOfficeLoginForm(OTPAdminAuthenticationForm):
    """A wrong username or password gets the admin's usual refusal (no enumeration); a lock-out
    says until when."""

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": _("Enter the code from your authenticator app, or a backup code."),
        "invalid_token": _("Wrong code. Check it and try again."),
    }

    @staticmethod
    def device_choices(user):
        return BLANK_CHOICE_DASH + [
            (device.persistent_id, FACTOR_LABELS.get(_factor(device.persistent_id), device.name))
            for device in devices_for_user(user)
        ]

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = staff_password_check(username=username, password=password)
            except LoginRefused as refused:
                if refused.code == "locked":
                    raise forms.ValidationError(refused.message, code="locked") from None
                raise self.get_invalid_login_error() from None
        self.clean_otp(self.user_cache)
        if self.user_cache is not None:
            staff_login_record(user=self.user_cache, factor=_factor(self.user_cache.otp_device.persistent_id))
        return self.cleaned_data

    def clean_otp(self, user):
        try:
            super().clean_otp(user)
        except forms.ValidationError as refused:
            if refused.code in GUESSES:
                staff_second_factor_failure_record(
                    user=user,
                    factor=_factor(self.cleaned_data.get("otp_device") or ""),
                    reason=GUESSES[refused.code],
                )
            raise
