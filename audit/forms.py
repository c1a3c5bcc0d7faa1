"""Back-office forms of the audit app."""

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import mainland_mobile
from audit.actions import Action
from audit.exporting.sources import SOURCES
from audit.exporting.spec import ExportSpec
from lending.ids import parse_id
from lending.pii import find_pii


def user_named(text: str):
    """The user a staff member means by a user id, a mobile number or a username; None if none."""
    users = get_user_model()._base_manager
    user_id = parse_id(text)
    if user_id is not None and len(text) < 11:
        return users.filter(pk=user_id).first()
    try:
        return users.filter(phone=mainland_mobile(text)).first()
    except ValidationError:
        return users.filter(username=text).first()


class DayInput(forms.DateInput):
    """The browser's date picker: its value is always YYYY-MM-DD (HTML's "valid date string"),
    whatever the language; a localized value such as 2026年11月30日 is dropped by the browser."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class AuditExportForm(forms.Form):
    sources = forms.MultipleChoiceField(
        label=_("Export"),
        choices=[(source.name, source.label) for source in SOURCES.values()],
        widget=forms.CheckboxSelectMultiple,
        initial=["events"],
    )
    date_from = forms.DateField(label=_("From"), widget=DayInput)
    date_to = forms.DateField(label=_("To"), widget=DayInput, help_text=_("Both days included."))
    actions = forms.MultipleChoiceField(
        label=_("Actions"),
        choices=Action.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Audit events only. None selected: every action."),
    )
    actor = forms.CharField(
        label=_("Done by"), required=False, help_text=_("User id, mobile number or staff username.")
    )
    borrower = forms.CharField(
        label=_("Borrower"),
        required=False,
        help_text=_("User id or mobile number: their records and every event about them."),
    )
    subject_type = forms.CharField(
        label=_("Subject type"),
        required=False,
        max_length=100,
        help_text=_("Audit events only, e.g. cards.card."),
    )
    subject_id = forms.CharField(label=_("Subject id"), required=False, max_length=64)
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("csv", _("CSV (opens in Excel)")), ("jsonl", _("JSON Lines"))],
        widget=forms.RadioSelect,
        initial="csv",
    )
    unmasked = forms.BooleanField(
        label=_("Unmasked personal data"),
        required=False,
        help_text=_("Full phone numbers and names. Recorded in the audit trail."),
    )
    background = forms.BooleanField(
        label=_("Run in the background"),
        required=False,
        help_text=_("Large exports always do; you follow the progress and download when done."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["date_from"].initial = today - timedelta(days=30)
        self.fields["date_to"].initial = today
        if not user.has_perm("audit.export_unmasked"):
            del self.fields["unmasked"]

    def _user_id(self, field: str) -> int | None:
        text = self.cleaned_data[field].strip()
        if not text:
            return None
        user = user_named(text)
        if user is None:
            raise ValidationError(_("No user has this id, mobile number or username."), code="unknown_user")
        return user.pk

    def clean_actor(self):
        return self._user_id("actor")

    def clean_borrower(self):
        return self._user_id("borrower")

    def clean_subject_id(self):
        """A record's id; a phone, ID or card number typed here would land in the audit trail."""
        value = self.cleaned_data["subject_id"]
        if find_pii(value):
            raise forms.ValidationError(
                _("A subject id is a record's number, not a phone, ID or card number.")
            )
        return value

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The range ends before it starts."))
        return data

    def spec(self) -> ExportSpec:
        data = self.cleaned_data
        return ExportSpec(
            sources=tuple(name for name in SOURCES if name in data["sources"]),
            date_from=data["date_from"],
            date_to=data["date_to"],
            format=data["format"],
            actions=tuple(data["actions"]),
            actor_id=data["actor"],
            subject_type=data["subject_type"].strip(),
            subject_id=data["subject_id"].strip(),
            borrower_id=data["borrower"],
            unmasked=data.get("unmasked", False),
        )
