from cards.tests.conftest import action_code, bind, borrower  # noqa: F401
from conftest import FIRST_DUE  # noqa: F401  (the first due date of make_loan's loans)
