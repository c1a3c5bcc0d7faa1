from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import CodeField, MobileField
from accounts.models import User
from lending.models import Loan


class LoanDisburseForm(forms.Form):
    """Staff disburse a loan to a borrower found by their bound phone number."""

    phone = MobileField(label=_("Borrower's mobile number"))
    product = forms.ChoiceField(label=_("Product"), choices=Loan.Product.choices)
    principal = forms.DecimalField(
        label=_("Principal (yuan)"), max_digits=12, decimal_places=2, min_value=Decimal("100.00")
    )
    annual_rate_percent = forms.DecimalField(
        label=_("Annual rate (%)"), max_digits=6, decimal_places=2, min_value=0, max_value=24
    )
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=60)
    first_due = forms.DateField(
        label=_("First due date"), required=False, help_text=_("Empty: one month from today.")
    )

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        borrower = User.objects.filter(phone=phone, is_staff=False).first()
        if borrower is None:
            raise forms.ValidationError(_("No borrower has this number."))
        self.cleaned_data["borrower"] = borrower
        return phone

    def loan_terms(self) -> dict:
        data = self.cleaned_data
        return {
            "borrower": data["borrower"],
            "product": data["product"],
            "principal": data["principal"],
            "annual_rate": data["annual_rate_percent"] / 100,
            "term_months": data["term_months"],
            "first_due": data["first_due"],
        }


class BorrowerPaymentForm(forms.Form):
    """Paying from the loan page: the card, the code to the account phone, and the form's own
    reference, which makes a form sent twice pay once. ``installments`` (repay now only) are
    checked by the view and the service: they must be this loan's and due."""

    card = forms.TypedChoiceField(label=_("Pay from"), coerce=int, empty_value=None)
    code = CodeField(required=False)
    payment_ref = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)

    def __init__(self, *args, cards, **kwargs):
        super().__init__(*args, **kwargs)
        # The last four digits first: a narrow screen cuts a long bank name, and two cards of one
        # bank must still tell apart.
        self.fields["card"].choices = [(card.pk, f"**** {card.last4} · {card.bank_name}") for card in cards]
        if cards and not self.initial.get("card"):
            self.initial["card"] = cards[0].pk

    def clean_code(self):
        code = self.cleaned_data.get("code")
        if not code and not self.data.get("send"):
            raise forms.ValidationError(_("Enter the code we sent to your phone."))
        return code
