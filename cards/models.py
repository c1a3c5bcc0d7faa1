"""Bank cards bound to borrowers' accounts, and the debit mandates behind them.

Never stored: the full card number, CVV or PIN. Kept: BIN, last 4, bank, card type, an
HMAC fingerprint (to find the same card elsewhere) and the bank's agreement token, encrypted.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cards.bins import DEBIT, bank_of_bin
from lending.crypto import decrypt, encrypt, fingerprint

LIVE = ("active", "pending_review")


def card_fingerprint(card_number: str) -> str:
    return fingerprint(f"card:{card_number}")


class CardType(models.TextChoices):
    DEBIT = "debit", _("Debit card")
    CREDIT = "credit", _("Credit card")


class Card(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PENDING_REVIEW = "pending_review", _("Pending review")
        UNBOUND = "unbound", _("Unbound")
        REJECTED = "rejected", _("Not approved")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="cards"
    )
    bin = models.CharField(_("BIN"), max_length=6)
    last4 = models.CharField(_("last 4 digits"), max_length=4)
    bank_code = models.CharField(_("bank"), max_length=10)
    card_type = models.CharField(_("card type"), max_length=8, choices=CardType.choices)
    fingerprint = models.CharField(max_length=64)
    holder_name = models.CharField(_("holder"), max_length=40)
    reserved_phone_encrypted = models.TextField()
    reserved_phone_masked = models.CharField(_("reserved phone"), max_length=32)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    is_repayment = models.BooleanField(_("repayment card"), default=False)
    bound_at = models.DateTimeField(_("bound"), default=timezone.now)
    unbound_at = models.DateTimeField(_("unbound"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["reserved_phone_encrypted"])

    class Meta:
        verbose_name = _("bank card")
        verbose_name_plural = _("bank cards")
        constraints = [
            # One account per card at a time: the database itself refuses a second live binding.
            models.UniqueConstraint(
                fields=["fingerprint"], condition=models.Q(status__in=LIVE), name="card_live_once"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_repayment=True, status__in=LIVE),
                name="card_one_repayment_card",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_repayment=True, card_type="credit"), name="card_repayment_is_debit"
            ),
        ]
        indexes = [models.Index(fields=["user", "status"], name="card_user_status_idx")]

    def __str__(self):
        return f"{self.bank_name} **** {self.last4}"

    @property
    def bank_name(self) -> str:
        entry = bank_of_bin(self.bin)
        return entry.bank_name if entry else self.bank_code

    @property
    def masked_number(self) -> str:
        return f"**** {self.last4}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    @property
    def is_debit(self) -> bool:
        return self.card_type == DEBIT

    @property
    def active_mandate(self):
        """Read through ``mandates.all()`` so a prefetched list (the card page) costs no query per card."""
        return next((m for m in self.mandates.all() if m.status == Mandate.Status.ACTIVE), None)

    @property
    def debit_mandate(self):
        """The mandate loans are collected through: an active card's active mandate, else None."""
        return self.active_mandate if self.status == self.Status.ACTIVE else None

    @property
    def needs_new_mandate(self) -> bool:
        """Bound, but the bank ended its debit authorisation: binding the card again renews it."""
        return self.status == self.Status.ACTIVE and self.active_mandate is None


class MandateQuerySet(models.QuerySet):
    def debitable(self):
        """The mandates loans are debited through: each repayment card's ``debit_mandate``."""
        return self.filter(
            status=Mandate.Status.ACTIVE, card__status=Card.Status.ACTIVE, card__is_repayment=True
        )


class Mandate(models.Model):
    """The borrower's debit authorisation at the bank: the token debits run on (never a password)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    card = models.ForeignKey(Card, verbose_name=_("card"), on_delete=models.PROTECT, related_name="mandates")
    token_encrypted = models.TextField()
    # The token's HMAC: the bank's notices name the agreement by its number, and the encrypted
    # token (a random nonce each time) cannot be searched.
    token_fingerprint = models.CharField(max_length=64, db_default="", db_index=True, editable=False)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    agreement_version = models.CharField(_("agreement version"), max_length=20)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_at_bank = models.DateTimeField(_("revoked at the bank"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["token_encrypted", "token_fingerprint"])
    objects = MandateQuerySet.as_manager()

    class Meta:
        verbose_name = _("debit mandate")
        verbose_name_plural = _("debit mandates")
        constraints = [
            models.UniqueConstraint(
                fields=["card"], condition=models.Q(status="active"), name="mandate_one_active_per_card"
            )
        ]

    def __str__(self):
        return f"mandate for {self.card}"

    @property
    def token(self) -> str:
        return decrypt(self.token_encrypted)

    @staticmethod
    def token_fields(token: str) -> dict:
        """The columns that keep the bank's agreement token: encrypted, and its fingerprint."""
        return {"token_encrypted": encrypt(token), "token_fingerprint": Mandate.fingerprint_of(token)}

    @staticmethod
    def fingerprint_of(token: str) -> str:
        return fingerprint(f"mandate-token:{token}")


class CardBindRequest(models.Model):
    """A binding between the bank's code being sent and the borrower typing it (BIND_REQUEST_MINUTES)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the bank's code")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("borrower"),
        on_delete=models.PROTECT,
        related_name="card_bind_requests",
    )
    bin = models.CharField(_("BIN"), max_length=6)
    last4 = models.CharField(_("last 4 digits"), max_length=4)
    bank_code = models.CharField(_("bank"), max_length=10)
    card_type = models.CharField(_("card type"), max_length=8, choices=CardType.choices)
    fingerprint = models.CharField(max_length=64)
    holder_name = models.CharField(max_length=40)
    reserved_phone_encrypted = models.TextField()
    reserved_phone_masked = models.CharField(max_length=32)
    # The reserved phone's HMAC and the client IP: bindings started are counted by them (the
    # encrypted number cannot be searched).
    reserved_phone_fingerprint = models.CharField(max_length=64, db_default="", editable=False)
    ip = models.GenericIPAddressField(null=True, blank=True)
    gateway_reference = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_code = models.CharField(_("failure code"), max_length=40, blank=True)
    wrong_tries = models.PositiveSmallIntegerField(_("wrong bank codes"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The card it bound, or whose debit authorisation it renewed (a card can have several).
    card = models.ForeignKey(
        Card,
        verbose_name=_("card"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bind_requests",
    )

    class Meta:
        verbose_name = _("card bind request")
        verbose_name_plural = _("card bind requests")
        indexes = [
            models.Index(fields=["user", "created_at"], name="bind_request_user_idx"),
            models.Index(fields=["ip", "created_at"], name="bind_request_ip_idx"),
            models.Index(fields=["fingerprint", "created_at"], name="bind_request_card_idx"),
            models.Index(fields=["reserved_phone_fingerprint", "created_at"], name="bind_request_phone_idx"),
        ]

    # Why a binding failed, for officers (the stored code stays in exports and the audit trail).
    FAILURE_LABELS = {
        "four_elements": _("name, ID, card and reserved phone do not match at the bank"),
        "card_closed": _("the card is closed"),
        "code_wrong": _("wrong bank code"),
        "code_expired": _("the bank's code expired"),
        "not_pending": _("no longer waiting at the bank"),
        "timeout": _("the bank did not answer in time"),
        "unreachable": _("the bank could not be reached"),
        "unavailable": _("the bank did not answer"),
        "bad_answer": _("the bank's answer could not be read"),
        "bank_error": _("the bank failed"),
    }

    def __str__(self):
        return _("binding **** %(last4)s (%(status)s)") % {
            "last4": self.last4,
            "status": self.get_status_display(),
        }

    @property
    def failure_label(self) -> str:
        return str(self.FAILURE_LABELS.get(self.failure_code, self.failure_code))

    @property
    def expires_at(self):
        return self.created_at + timedelta(minutes=settings.BIND_REQUEST_MINUTES)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING and timezone.now() < self.expires_at

    @property
    def bank_name(self) -> str:
        entry = bank_of_bin(self.bin)
        return entry.bank_name if entry else self.bank_code

    @property
    def reserved_phone(self) -> str:
        return decrypt(self.reserved_phone_encrypted)

    @staticmethod
    def phone_fingerprint(phone: str) -> str:
        return fingerprint(f"bind-reserved-phone:{phone}")


class BankNotice(models.Model):
    """A notice the bank sent (sandboxes/bank/PROTOCOL.md section 7), stored once by its id before
    it is acknowledged, then applied by a task (cards/services/notices.py).

    ``payload`` keeps only the fields the protocol names for the kind (order numbers, amounts,
    codes, dates; never a card number). The agreement number is a debit credential: it is kept
    encrypted apart, like a mandate's token."""

    class Kind(models.TextChoices):
        DEBIT_RESULT = "debit.result", _("Debit result")
        AGREEMENT_ENDED = "agreement.ended", _("Agreement ended at the bank")
        CARD_CLOSED = "card.closed", _("Card closed by the bank")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, not applied yet")
        APPLIED = "applied", _("Applied")
        CONFLICT = "conflict", _("Contradicts our record")
        IGNORED = "ignored", _("Ignored")

    notice_id = models.CharField(_("notice id"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    payload = models.JSONField(_("content"), default=dict)
    agreement_encrypted = models.TextField(blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("bank notice")
        verbose_name_plural = _("bank notices")
        indexes = [models.Index(fields=["status", "received_at"], name="bank_notice_status_idx")]

    def __str__(self):
        return f"{self.kind} {self.notice_id}"
