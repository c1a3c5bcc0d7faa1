from cards.tests.conftest import _sandbox_without_faults, bind, borrower  # noqa: F401
