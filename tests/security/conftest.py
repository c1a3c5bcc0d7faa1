from cards.tests.conftest import action_code, bind, borrower  # noqa: F401
