"""Reads about a borrower's loans."""

from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Prefetch, Sum
from django.db.models.functions import Coalesce

from lending.models import DebitAttempt, Installment, Loan


def loans_being_repaid(user):
    return Loan.objects.filter(borrower=user, status__in=Loan.BEING_REPAID)


def has_loan_being_repaid(user) -> bool:
    return loans_being_repaid(user).exists()


def outstanding_balance(user) -> Decimal:
    """What the borrower still owes on loans being repaid: unpaid principal, interest due."""
    owed = ExpressionWrapper(
        F("principal_due") + F("interest_due") - F("paid_amount"), output_field=DecimalField()
    )
    total = (
        Installment.objects.filter(loan__borrower=user, loan__status__in=Loan.BEING_REPAID)
        .exclude(status=Installment.Status.PAID)
        .aggregate(total=Coalesce(Sum(owed), Decimal("0")))["total"]
    )
    return total


def loans_of(user):
    """The borrower's loans, newest first, with their installments (for outstanding and next due)."""
    loans = Loan.objects.filter(borrower=user).prefetch_related("installments")
    return loans.order_by("-disbursed_at", "-pk")


def loan_of(user, loan_id: int) -> Loan:
    """One of the borrower's own loans with its schedule and every debit attempt (DoesNotExist otherwise)."""
    attempts = DebitAttempt.objects.select_related("card").order_by("created_at", "pk")
    installments = Installment.objects.prefetch_related(Prefetch("debit_attempts", attempts))
    loans = Loan.objects.prefetch_related(Prefetch("installments", installments))
    return loans.get(pk=loan_id, borrower=user)
