from datetime import date
from decimal import Decimal

import pytest

from accounts.tests.factories import BorrowerFactory
from audit.models import AuditEvent
from lending.amortisation import add_months, monthly_payment, schedule
from lending.models import Installment, Loan
from lending.selectors import has_loan_being_repaid, outstanding_balance
from lending.services import LoanRefused, loan_create


@pytest.mark.parametrize(
    "principal, rate, months",
    [
        (Decimal("10000.00"), Decimal("0.12"), 12),
        (Decimal("88888.88"), Decimal("0.0888"), 36),
        (Decimal("3000.00"), Decimal("0"), 6),
        (Decimal("100.01"), Decimal("0.2399"), 7),
    ],
)
def test_amortisation_adds_up_to_principal_plus_interest_exactly(principal, rate, months):
    rows = schedule(principal, rate, months, date(2026, 1, 31))
    assert sum(row.principal for row in rows) == principal
    assert len(rows) == months
    payment = monthly_payment(principal, rate, months)
    assert all(row.total == payment for row in rows[:-1])  # equal installments; the last absorbs rounding
    assert all(
        row.principal.as_tuple().exponent == -2 and row.interest.as_tuple().exponent == -2 for row in rows
    )
    assert sum(row.total for row in rows) == principal + sum(row.interest for row in rows)


def test_a_known_schedule():
    rows = schedule(Decimal("10000.00"), Decimal("0.12"), 12, date(2026, 1, 15))
    assert monthly_payment(Decimal("10000.00"), Decimal("0.12"), 12) == Decimal("888.49")
    assert (rows[0].principal, rows[0].interest) == (Decimal("788.49"), Decimal("100.00"))


def test_due_dates_keep_the_day_or_take_the_months_last():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


@pytest.mark.django_db
def test_a_loan_needs_an_identity_and_an_active_repayment_card(bind):
    borrower = BorrowerFactory()
    with pytest.raises(LoanRefused, match="identity"):
        loan_create(
            actor=None,
            borrower=borrower,
            product="car",
            principal=Decimal("1000"),
            annual_rate=Decimal("0.1"),
            term_months=3,
        )
    from accounts.services import identity_verify

    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    with pytest.raises(LoanRefused, match="repayment card"):
        loan_create(
            actor=None,
            borrower=borrower,
            product="car",
            principal=Decimal("1000"),
            annual_rate=Decimal("0.1"),
            term_months=3,
        )
    bind(borrower)
    loan = loan_create(
        actor=None,
        borrower=borrower,
        product="phone",
        principal=Decimal("6000.00"),
        annual_rate=Decimal("0.12"),
        term_months=6,
    )
    assert loan.status == Loan.Status.ACTIVE and Installment.objects.filter(loan=loan).count() == 6
    assert has_loan_being_repaid(borrower)
    assert outstanding_balance(borrower) == sum(i.amount_due for i in loan.installments.all())
    assert AuditEvent.objects.get(action="loan.created").data["principal"] == "6000.00"
    assert loan.installments.first().history.count() == 1
