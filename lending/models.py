from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from lending.choices import ChoiceLabels


class OutboxMessage(models.Model):
    """A Celery task to run, written in the transaction of the change that wants it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PUBLISHED = "published", _("Published")

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("publish attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="outbox_pending_idx",
            ),
        ]

    def __str__(self):
        return f"{self.task} #{self.pk} ({self.status})"

    @property
    def celery_task_id(self) -> str:
        return f"outbox-{self.pk}"


class Loan(ChoiceLabels, models.Model):
    """A borrower's loan, repaid in monthly installments from the repayment card's mandate."""

    class Product(models.TextChoices):
        CAR = "car", _("Car loan")
        PHONE = "phone", _("Phone loan")
        INSTALLMENT = "installment", _("Installment loan")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Being repaid")
        PAID_OFF = "paid_off", _("Paid off")
        OVERDUE = "overdue", _("Overdue")
        WRITTEN_OFF = "written_off", _("Written off")

    BEING_REPAID = (Status.ACTIVE, Status.OVERDUE)

    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="loans"
    )
    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    principal = models.DecimalField(_("principal"), max_digits=12, decimal_places=2)
    annual_rate = models.DecimalField(
        _("annual rate"), max_digits=6, decimal_places=4, help_text="0.1200 = 12%"
    )
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    disbursed_at = models.DateTimeField(_("disbursed"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        indexes = [models.Index(fields=["borrower", "status"], name="loan_borrower_status_idx")]

    def __str__(self):
        return f"{self.get_product_display()} #{self.pk}"

    @property
    def annual_rate_percent(self) -> Decimal:
        return (self.annual_rate * 100).quantize(Decimal("0.01"))

    # Read through ``installments.all()`` so a prefetched schedule costs no query per loan.
    # Paid rows count nothing: one closed by an early payoff was paid less than its scheduled
    # interest (only what had accrued).
    @property
    def outstanding(self) -> Decimal:
        return sum(
            (i.left for i in self.installments.all() if i.status != Installment.Status.PAID), Decimal("0")
        )

    @property
    def days_past_due(self) -> int:
        """Days since the oldest unpaid installment fell due (0 when none is late)."""
        return max((i.days_past_due for i in self.installments.all()), default=0)

    @property
    def next_installment(self) -> "Installment | None":
        return next((i for i in self.installments.all() if i.status != Installment.Status.PAID), None)


class Installment(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        DUE = "due", _("Due")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="installments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    principal_due = models.DecimalField(_("principal due"), max_digits=12, decimal_places=2)
    interest_due = models.DecimalField(_("interest due"), max_digits=12, decimal_places=2)
    paid_amount = models.DecimalField(_("paid"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DUE)
    # When the collection run debits it next: the start of the due date, then the retry days
    # after a soft failure; empty once paid or stopped (hard failure, retries used up).
    next_attempt_at = models.DateTimeField(_("next debit"), null=True, blank=True)
    soft_failures = models.PositiveSmallIntegerField(_("soft failures in a row"), default=0)
    reminded_at = models.DateTimeField(_("repayment card reminder sent"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["loan", "number"]
        constraints = [models.UniqueConstraint(fields=["loan", "number"], name="installment_number_once")]
        indexes = [
            models.Index(fields=["status", "due_date"], name="installment_due_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(next_attempt_at__isnull=False),
                name="installment_to_collect_idx",
            ),
        ]

    def __str__(self):
        return f"{self.loan} {self.number}/{self.loan.term_months}"

    @property
    def amount_due(self) -> Decimal:
        return self.principal_due + self.interest_due

    @property
    def left(self) -> Decimal:
        return self.amount_due - self.paid_amount

    @property
    def days_past_due(self) -> int:
        """Whole days since the due date of an unpaid installment (0 on the due date and before;
        at least 1 once marked overdue, which happens only after its due day's window closed)."""
        return self.days_past_due_on(timezone.localdate())

    def days_past_due_on(self, today: date) -> int:
        """``days_past_due`` as of ``today`` (for a whole schedule, read the date once)."""
        if self.status == self.Status.PAID:
            return 0
        days = max((today - self.due_date).days, 0)
        return max(days, 1) if self.status == self.Status.OVERDUE else days


class DebitAttempt(ChoiceLabels, models.Model):
    """One try at collecting an installment through a mandate; its key makes the bank debit once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Sent, outcome unknown")
        SUCCEEDED = "succeeded", _("Collected")
        FAILED = "failed", pgettext_lazy("debit status", "Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Daily collection")
        FOLLOW_UP = "follow_up", _("Follow-up run (picked up late)")
        OFFICER = "officer", _("Officer's retry")
        BORROWER = "borrower", _("Borrower's payment")
        PAYOFF = "payoff", _("Borrower's early payoff")

    # Paid by the borrower from the loan page: a failure leaves the collection schedule as it was.
    BY_BORROWER = (Trigger.BORROWER, Trigger.PAYOFF)

    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), on_delete=models.PROTECT, related_name="debit_attempts"
    )
    # Empty when there was no repayment card with a mandate to debit.
    card = models.ForeignKey(
        "cards.Card", verbose_name=_("card"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    mandate = models.ForeignKey(
        "cards.Mandate", verbose_name=_("mandate"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=32, blank=True)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    # Sent again under the same key because the bank said it never received it (a worker died
    # before sending it, or the request was lost on the way).
    # The borrower's payment (one submitted form) the attempt belongs to: a resubmitted form finds
    # it and pays nothing more; empty for collection runs.
    payment_ref = models.CharField(_("borrower's payment"), max_length=32, blank=True, db_index=True)
    resent_count = models.PositiveSmallIntegerField(_("sent again"), default=0)
    resent_at = models.DateTimeField(_("last sent again"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)

    class Meta:
        verbose_name = _("debit attempt")
        verbose_name_plural = _("debit attempts")
        ordering = ["-created_at", "-pk"]
        permissions = [("retry_debitattempt", "Can retry a failed debit")]
        constraints = [
            models.UniqueConstraint(fields=["installment", "number"], name="debit_attempt_number_once"),
            models.UniqueConstraint(
                fields=["installment"],
                condition=models.Q(status="succeeded"),
                name="one_successful_debit_per_installment",
            ),
            models.UniqueConstraint(
                fields=["installment"],
                condition=models.Q(status="pending"),
                name="one_debit_in_flight_per_installment",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="debit_attempt_status_idx"),
            models.Index(
                fields=["failure_code", "created_at"],
                condition=models.Q(status="failed"),
                name="debit_attempt_failed_idx",
            ),
        ]

    def __str__(self):
        return f"{self.installment} #{self.number}"

    FAILURE_REASONS = {
        "insufficient_funds": _("not enough money on the card"),
        "mandate_revoked": _("the bank ended the debit authorisation"),
        "card_closed": _("the card is closed"),
        "no_answer": _("the bank did not answer"),
        "no_repayment_card": _("no repayment card with a debit authorisation"),
    }

    @property
    def failure_reason(self) -> str:
        return str(self.FAILURE_REASONS.get(self.failure_code, self.failure_code))

    @staticmethod
    def key_for(installment_id: int, number: int) -> str:
        return f"installment-{installment_id}-attempt-{number}"
