"""Reads about a borrower's loans."""

from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Coalesce

from lending.models import Installment, Loan


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
