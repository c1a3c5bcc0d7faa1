from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import validators


class MobileField(forms.CharField):
    """A mainland mobile number, typed any common way; cleans to E.164."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)
        self.widget.input_type = "tel"
        self.widget.attrs.update({"autocomplete": "tel", "inputmode": "tel", "placeholder": "138 0013 8000"})

    def clean(self, value):
        return validators.mainland_mobile(super().clean(value))


class CodeField(forms.RegexField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("SMS code"))
        super().__init__(
            regex=r"^[0-9]{6}$",
            max_length=6,
            min_length=6,
            strip=True,
            error_messages={
                "invalid": _("The code is the 6 digits in the text message."),
                "min_length": _("The code is the 6 digits in the text message."),
                "max_length": _("The code is the 6 digits in the text message."),
            },
            **kwargs,
        )
        self.widget.attrs.update(
            {"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*", "maxlength": "6"}
        )


class PasswordField(forms.CharField):
    def __init__(self, *, new=False, **kwargs):
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("strip", False)
        autocomplete = "new-password" if new else "current-password"
        super().__init__(widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}), **kwargs)


class NewPasswordMixin:
    """Two new-password fields checked against Django's password validators."""

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords differ."))
        elif first:
            try:
                password_validation.validate_password(first, getattr(self, "user", None))
            except ValidationError as exc:
                self.add_error("new_password1", exc)
        return cleaned


class PhoneForm(forms.Form):
    phone = MobileField()


class RegisterCompleteForm(NewPasswordMixin, forms.Form):
    code = CodeField()
    new_password1 = PasswordField(new=True, label=_("Password"))
    new_password2 = PasswordField(new=True, label=_("Password again"))
    privacy_version = forms.CharField(widget=forms.HiddenInput, max_length=20)
    privacy_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    accept_privacy = forms.BooleanField(
        label=_("I have read and accept the privacy policy above."),
        error_messages={"required": _("Accept the privacy policy to open an account.")},
    )

    def __init__(self, *args, policy, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.fields["privacy_version"].initial = policy.version
        self.fields["privacy_sha256"].initial = policy.sha256

    def clean(self):
        cleaned = super().clean()
        shown = (cleaned.get("privacy_version"), cleaned.get("privacy_sha256"))
        if shown != (self.policy.version, self.policy.sha256):
            raise ValidationError(
                _("The privacy policy has changed since the page opened. Read it again below.")
            )
        return cleaned


class LoginForm(forms.Form):
    phone = MobileField()
    password = PasswordField(label=_("Password"))


class CodeForm(forms.Form):
    code = CodeField()


class PasswordForm(forms.Form):
    """The current password, again."""

    password = PasswordField(label=_("Password"))


class PasswordChangeForm(NewPasswordMixin, forms.Form):
    old_password = PasswordField(label=_("Current password"))
    new_password1 = PasswordField(new=True, label=_("New password"))
    new_password2 = PasswordField(new=True, label=_("New password again"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


class PasswordResetCompleteForm(NewPasswordMixin, forms.Form):
    code = CodeField()
    new_password1 = PasswordField(new=True, label=_("New password"))
    new_password2 = PasswordField(new=True, label=_("New password again"))


class NeverEchoedInput(forms.TextInput):
    """A card or ID number is never rendered back, not even into the form after an error: it is
    only ever shown masked (retyping it is the price)."""

    def format_value(self, value):
        return None


class IdentityForm(forms.Form):
    real_name = forms.CharField(
        label=_("Real name"), max_length=40, help_text=_("Exactly as on your ID card.")
    )
    id_number = forms.CharField(
        label=_("Resident ID number"), max_length=18, widget=NeverEchoedInput(attrs={"autocomplete": "off"})
    )

    def clean_real_name(self):
        return validators.real_name(self.cleaned_data["real_name"])

    def clean_id_number(self):
        number, _birth = validators.resident_id(self.cleaned_data["id_number"])
        return number


class NewPhoneForm(forms.Form):
    new_phone = MobileField(label=_("New mobile number"))


class PhoneLostForm(forms.Form):
    phone = MobileField(label=_("The number on your account (the lost phone)"))
    password = PasswordField(label=_("Password"))
    real_name = forms.CharField(label=_("Real name"), max_length=40)
    id_number = forms.CharField(
        label=_("Resident ID number"), max_length=18, widget=NeverEchoedInput(attrs={"autocomplete": "off"})
    )
    new_phone = MobileField(label=_("New mobile number"))

    def clean_real_name(self):
        return validators.real_name(self.cleaned_data["real_name"])

    def clean_id_number(self):
        number, _birth = validators.resident_id(self.cleaned_data["id_number"])
        return number


class BiometricsConsentForm(forms.Form):
    """The separate consent to process facial information, ticked before any face check."""

    consent = forms.BooleanField(
        label=_("I agree to the processing of my facial information for this check, as described above.")
    )
