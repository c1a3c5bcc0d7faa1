"""Help and complaint requests (帮助与投诉) and the conversation on each, worked in the back office."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from lending.crypto import decrypt


class SupportCase(models.Model):
    """One request from a borrower, signed in or locked out, with its SLA deadlines."""

    class Category(models.TextChoices):
        CARD = "card", _("Bank card")
        PHONE = "phone", _("Phone number")
        REPAYMENT = "repayment", _("Debit and repayment")
        FROZEN = "frozen", _("Account frozen")
        PRIVACY = "privacy", _("Privacy and personal data")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("help request status", "Waiting for support")
        ANSWERED = "answered", _("Answered, waiting for the borrower")
        RESOLVED = "resolved", _("Resolved")

    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("borrower"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_cases",
        help_text=_("Empty when a signed-out visitor's number has no account"),
    )
    contact_phone_encrypted = models.TextField(blank=True)
    contact_phone_masked = models.CharField(_("contact number"), max_length=32, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    is_complaint = models.BooleanField(_("complaint"), default=False)
    signed_out = models.BooleanField(_("sent while signed out"), default=False)
    card = models.ForeignKey(
        "cards.Card",
        verbose_name=_("card"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    loan = models.ForeignKey(
        "lending.Loan",
        verbose_name=_("loan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    about_review_case = models.ForeignKey(
        "audit.ReviewCase",
        verbose_name=_("about review case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_case = models.ForeignKey(
        "audit.ReviewCase",
        verbose_name=_("review case opened from it"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_cases",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    first_answer_due_at = models.DateTimeField(_("first answer due"))
    resolve_due_at = models.DateTimeField(_("resolution due"))
    first_answered_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["contact_phone_encrypted"])

    class Meta:
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["borrower", "-id"], name="support_case_borrower_idx"),
            models.Index(fields=["status", "opened_at"], name="support_case_queue_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_category_display()}"

    @property
    def contact_phone(self) -> str:
        return decrypt(self.contact_phone_encrypted) if self.contact_phone_encrypted else ""

    @property
    def is_resolved(self) -> bool:
        return self.status == self.Status.RESOLVED

    @property
    def overdue(self) -> bool:
        if self.is_resolved:
            return False
        now = timezone.now()
        return now > self.resolve_due_at or (
            self.first_answered_at is None and now > self.first_answer_due_at
        )


class SupportMessage(models.Model):
    """One message on a case. Internal notes are for staff only, never shown to the borrower.
    Texts are masked for card, ID and phone numbers before they are stored."""

    class Kind(models.TextChoices):
        BORROWER = "borrower", _("From the borrower")
        REPLY = "reply", _("Reply from support")
        NOTE = "note", _("Internal note")

    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("help request message")
        verbose_name_plural = _("help request messages")
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"
