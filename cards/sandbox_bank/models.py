"""The sandbox bank's side. Like a real bank it keeps its own records; unlike one it stores
card and ID numbers only as fingerprints, so the database never holds them."""

from django.db import models
from django.utils import timezone


class BankAccount(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    card_hash = models.CharField(max_length=64, unique=True)
    last4 = models.CharField(max_length=4)
    holder_hash = models.CharField(max_length=64, help_text="HMAC of name + ID number + reserved phone")
    balance = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"account **** {self.last4}"


class BankBinding(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        FAILED = "failed"

    reference = models.CharField(max_length=40, unique=True)
    account = models.ForeignKey(BankAccount, on_delete=models.CASCADE)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    wrong_tries = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    def __str__(self):
        return self.reference


class BankAgreement(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        REVOKED = "revoked"

    token = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(BankAccount, on_delete=models.CASCADE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"agreement on {self.account}"


class BankDebit(models.Model):
    idempotency_key = models.CharField(max_length=100, unique=True)
    agreement = models.ForeignKey(BankAgreement, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    succeeded = models.BooleanField()
    failure_code = models.CharField(max_length=40, blank=True)
    soft = models.BooleanField(default=False)
    reference = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.reference
