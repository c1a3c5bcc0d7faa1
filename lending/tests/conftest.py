from datetime import date
from decimal import Decimal

import pytest

from cards.tests.conftest import _sandbox_without_faults, action_code, bind, borrower  # noqa: F401
from lending.services import loan_create

FIRST_DUE = date(2026, 12, 15)


@pytest.fixture
def make_loan():
    """Disburse a 3-month loan of 3,000 (first due FIRST_DUE) to a borrower with a repayment card."""

    def disburse(user, *, principal="3000.00", term_months=3, first_due=FIRST_DUE):
        return loan_create(
            actor=None,
            borrower=user,
            product="phone",
            principal=Decimal(principal),
            annual_rate=Decimal("0.12"),
            term_months=term_months,
            first_due=first_due,
        )

    return disburse
