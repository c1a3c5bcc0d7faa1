"""Bank cards bound to borrowers' accounts, and the debit mandates behind them.

Never stored: the full card number, CVV or PIN. Kept: BIN, last 4, bank, card type, an
HMAC fingerprint (to find the same card elsewhere) and the bank's agreement token, encrypted.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from cards.bins import DEBIT, bank_of_bin
from lending.choices import ChoiceLabels
from lending.crypto import decrypt, encrypt, fingerprint

LIVE = ("active", "pending_review")


def card_fingerprint(card_number: str) -> str:
    return fingerprint(f"card:{card_number}")


class CardType(models.TextChoices):
    DEBIT = "debit", _("Debit card")
    CREDIT = "credit", _("Credit card")


class Card(ChoiceLabels, models.Model):
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
        """A debit card bound, but the bank ended its debit authorisation: binding it again renews
        it. (A credit card never holds one: loans are not repaid from credit cards.)"""
        return self.is_debit and self.status == self.Status.ACTIVE and self.active_mandate is None


class MandateQuerySet(models.QuerySet):
    def debitable(self):
        """The mandates loans are debited through: each repayment card's ``debit_mandate``."""
        return self.filter(
            status=Mandate.Status.ACTIVE, card__status=Card.Status.ACTIVE, card__is_repayment=True
        )


class Mandate(ChoiceLabels, models.Model):
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


class CardBindRequest(ChoiceLabels, models.Model):
    """A binding between the bank's code being sent and the borrower typing it (BIND_REQUEST_MINUTES)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the bank's code")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", pgettext_lazy("card binding status", "Failed")

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


class ReconciliationRun(models.Model):
    """One settlement date's reconciliation with the bank's statement files (a re-run updates it).

    Keeps the files' SHA-256 and the bank's signatures of them: with the bank's public key they
    prove what the bank's statement said, without keeping the file."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        CLEAN = "clean", _("Clean: every line matched")
        BREAKS = "breaks", _("Differences found")
        FAILED = "failed", _("Failed: the statement was refused or not fetched")

    settle_date = models.DateField(_("settlement date"), unique=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    lines = models.PositiveIntegerField(_("statement lines"), default=0)
    matched = models.PositiveIntegerField(_("lines matched"), default=0)
    matched_amount = models.DecimalField(
        _("amount matched"),
        max_digits=16,
        decimal_places=2,
        default=0,
        help_text=_("Debits collected, in yuan"),
    )
    agreements = models.PositiveIntegerField(_("agreements compared"), default=0)
    breaks = models.PositiveIntegerField(_("differences"), default=0)
    statement_final = models.BooleanField(_("final statement"), default=False)
    statement_sha256 = models.CharField(_("statement SHA-256"), max_length=64, blank=True)
    statement_signature = models.TextField(_("bank's signature of the statement"), blank=True)
    agreement_sha256 = models.CharField(_("agreement statement SHA-256"), max_length=64, blank=True)
    agreement_signature = models.TextField(_("bank's signature of the agreement statement"), blank=True)
    error = models.CharField(_("error"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-settle_date"]

    def __str__(self):
        return f"{self.settle_date} ({self.status})"


class ReconciliationBreak(models.Model):
    """A difference between the bank's records and ours, for an officer to look into and resolve.

    ``evidence`` holds what both sides say (order numbers, amounts, statuses, bank references,
    the card's last 4, masked agreement numbers): never a card, ID or phone number."""

    class Kind(models.TextChoices):
        BANK_SUCCESS_UNKNOWN_TO_US = (
            "bank_success_unknown_to_us",
            _("The bank collected, our attempt is pending"),
        )
        OUR_SUCCESS_MISSING_AT_BANK = (
            "our_success_missing_at_bank",
            _("We collected, the bank has no such debit"),
        )
        AMOUNT_DIFFERS = "amount_differs", _("The amounts differ")
        STATUS_DIFFERS = "status_differs", _("The outcomes differ")
        UNKNOWN_ORDER = "unknown_order", _("An order number we never sent")
        AGREEMENT_ONLY_AT_BANK = (
            "agreement_only_at_bank",
            _("An agreement active at the bank, no mandate here"),
        )
        MANDATE_NOT_AT_BANK = "mandate_not_at_bank", _("An active mandate here, not active at the bank")
        NOTICE_CONFLICT = "notice_conflict", _("A bank notice contradicts our record")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("reconciliation break status", "Open")
        RESOLVED = "resolved", _("Resolved")

    run = models.ForeignKey(
        ReconciliationRun,
        verbose_name=_("reconciliation run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="break_set",
    )
    settle_date = models.DateField(_("settlement date"))
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # What makes the break one: the order number, or the agreement's token fingerprint.
    key = models.CharField(max_length=64, editable=False)
    order_no = models.CharField(_("order number"), max_length=64, blank=True)
    attempt = models.ForeignKey(
        "lending.DebitAttempt",
        verbose_name=_("our debit attempt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    mandate = models.ForeignKey(
        Mandate,
        verbose_name=_("our mandate"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    our_amount = models.DecimalField(_("our amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    bank_amount = models.DecimalField(
        _("bank's amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(_("found"), default=timezone.now)
    resolution_note = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reconciliation break")
        verbose_name_plural = _("reconciliation breaks")
        ordering = ["-settle_date", "kind", "order_no"]
        permissions = [("resolve_reconciliationbreak", "Can resolve a reconciliation break")]
        constraints = [
            # A re-run of a date finds the same differences again: each is kept once.
            models.UniqueConstraint(fields=["settle_date", "kind", "key"], name="reconciliation_break_once")
        ]
        indexes = [
            models.Index(fields=["status", "settle_date"], name="reconciliation_break_queue_idx"),
            models.Index(fields=["order_no"], name="reconciliation_break_order_idx"),
        ]

    def __str__(self):
        return f"{self.settle_date} {self.kind} {self.order_no or self.evidence.get('agreement', '')}".strip()
