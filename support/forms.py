from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import CodeField, MobileField
from support.models import SupportCase
from support.services import MESSAGE_MAX


class HelpRequestForm(forms.Form):
    category = forms.ChoiceField(label=_("What is it about?"), choices=SupportCase.Category.choices)
    message = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Never write a full card or ID number: we do not need it, and we hide it if you do."),
    )
    is_complaint = forms.BooleanField(label=_("This is a complaint (投诉)"), required=False)
    card_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    loan_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    review_case_id = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SignedOutHelpForm(forms.Form):
    account_phone = MobileField(label=_("The mobile number of your account"))
    contact_phone = MobileField(
        label=_("Where we should answer you"),
        help_text=_("Your account's number if you still have that phone, or a new number if it is lost."),
    )
    category = forms.ChoiceField(label=_("What is it about?"), choices=SupportCase.Category.choices)
    message = forms.CharField(
        label=_("Your message"), max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    is_complaint = forms.BooleanField(label=_("This is a complaint (投诉)"), required=False)


class SignedOutCodeForm(forms.Form):
    code = CodeField()


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your reply"), max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
