import pytest

from accounts.models import SmsCode
from cards.tests.conftest import action_code, allow_next_code, bind, borrower  # noqa: F401
from conftest import FIRST_DUE  # noqa: F401  (the first due date of make_loan's loans)


@pytest.fixture
def repay_code(deliver, last_code):
    """Send the code for paying ``loan`` (repay now, or ``purpose`` LOAN_PAYOFF) and return it."""
    from lending.services.repayment import loan_repay_code_send

    def run(user, loan, purpose=SmsCode.Purpose.LOAN_REPAY):
        allow_next_code()
        with deliver():
            loan_repay_code_send(actor=user, loan=loan, purpose=purpose)
        return last_code(user.phone)

    return run
