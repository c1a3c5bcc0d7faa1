from cards.tests.conftest import bind, borrower  # noqa: F401
