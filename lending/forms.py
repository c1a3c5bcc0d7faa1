from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import MobileField
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
