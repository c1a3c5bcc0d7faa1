from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


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


class Loan(models.Model):
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


class Installment(models.Model):
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

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["loan", "number"]
        constraints = [models.UniqueConstraint(fields=["loan", "number"], name="installment_number_once")]
        indexes = [models.Index(fields=["status", "due_date"], name="installment_due_idx")]

    def __str__(self):
        return f"{self.loan} {self.number}/{self.loan.term_months}"

    @property
    def amount_due(self) -> Decimal:
        return self.principal_due + self.interest_due
