from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import CodeField, PasswordField


class CodeForm(forms.Form):
    code = CodeField()


class ClosureForm(forms.Form):
    password = PasswordField(label=_("Password"))
    code = CodeField()
    understood = forms.BooleanField(
        label=_("I understand that after the cooling-off period my account is closed and cannot be restored.")
    )
