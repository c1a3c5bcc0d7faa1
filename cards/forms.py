from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import CodeField, MobileField, NeverEchoedInput
from cards.bins import clean_card_number


class BindForm(forms.Form):
    card_number = forms.CharField(
        label=_("Card number"),
        max_length=40,
        widget=NeverEchoedInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    reserved_phone = MobileField(
        label=_("Reserved phone"), help_text=_("The mobile number you gave the bank for this card.")
    )

    def clean_card_number(self):
        digits, _entry = clean_card_number(self.cleaned_data["card_number"])
        return digits


class BindConfirmForm(forms.Form):
    code = CodeField(label=_("The bank's code"))
    agreement_version = forms.CharField(widget=forms.HiddenInput, max_length=20)
    agreement_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    accept_agreement = forms.BooleanField(
        label=_("I accept the debit authorisation above."),
        error_messages={"required": _("Accept the debit authorisation to bind the card.")},
    )

    def __init__(self, *args, policy, **kwargs):
        """``policy`` None: a credit card, which signs no debit authorisation (only the code)."""
        super().__init__(*args, **kwargs)
        self.policy = policy
        if policy is None:
            for name in ("agreement_version", "agreement_sha256", "accept_agreement"):
                del self.fields[name]
            return
        self.fields["agreement_version"].initial = policy.version
        self.fields["agreement_sha256"].initial = policy.sha256

    def clean(self):
        cleaned = super().clean()
        if self.policy is None:
            return cleaned
        if (cleaned.get("agreement_version"), cleaned.get("agreement_sha256")) != (
            self.policy.version,
            self.policy.sha256,
        ):
            raise ValidationError(
                _("The debit authorisation has changed since the page opened. Read it again below.")
            )
        return cleaned


class SwapForm(forms.Form):
    new_card = forms.ModelChoiceField(
        queryset=None, label=_("Card that takes over repayments"), empty_label=None
    )
    code = CodeField()

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_card"].queryset = candidates
