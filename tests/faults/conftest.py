from cards.tests.conftest import _sandbox_without_faults, action_code, bind, borrower  # noqa: F401
