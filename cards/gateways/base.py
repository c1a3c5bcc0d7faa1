"""What the platform needs from a bank (or a payment institution holding bank mandates).

Card numbers and ID numbers are passed through, never kept: the platform stores only the
bank's agreement token. Errors never carry the card number.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path


class GatewayError(Exception):
    """The bank said no, or could not be reached. ``code`` is stable; the message is for people."""

    code = "gateway_error"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message or self.code)
        if code:
            self.code = code


class GatewayUnavailable(GatewayError):
    """Timeout or 5xx: the request may or may not have been processed; query, never repeat blindly."""

    code = "unavailable"


class BindRefused(GatewayError):
    """The bank refused the binding: four elements do not match, card closed, wrong or expired code."""

    code = "bind_refused"


class StatementRefused(GatewayError):
    """A statement file that failed its checks (digest, the bank's signature, its form): never
    matched against our records. ``code`` says which check."""

    code = "statement_refused"


@dataclass(frozen=True)
class Statement:
    """A statement file the bank signed, checked and kept in a temporary file (use it in a
    ``with`` block: the file is removed at its end). ``signature`` is the bank's, over the date
    and ``sha256``: kept with the reconciliation as proof of what the bank said."""

    date: date
    path: Path
    sha256: str
    signature: str
    lines: int  # the number of lines the bank says it holds (without the header)
    final: bool  # False: the date is not over at the bank yet (a partial file)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class DebitResult:
    succeeded: bool
    reference: str = ""
    failure_code: str = ""
    soft: bool = False  # a soft failure (insufficient funds) may succeed when retried later


@dataclass(frozen=True)
class DebitRequest:
    token: str
    amount: Decimal
    idempotency_key: str


class BankGateway:
    def bind_start(self, *, holder_name: str, id_number: str, card_number: str, reserved_phone: str) -> str:
        """Check the four elements, send the bank's code to the reserved phone; return a bind reference."""
        raise NotImplementedError

    def bind_confirm(self, *, reference: str, code: str) -> str:
        """Check the code the borrower typed; return the agreement (mandate) token."""
        raise NotImplementedError

    def signup_agreement(self, *, reference: str) -> str | None:
        """The agreement token a confirmed binding made (active or ended), or None if it made none.

        For a binding whose confirm answer was lost or not recorded: the token is then revoked."""
        raise NotImplementedError

    def revoke(self, *, token: str) -> None:
        """End the mandate at the bank. Revoking twice is fine."""
        raise NotImplementedError

    def debit(self, *, token: str, amount: Decimal, idempotency_key: str) -> DebitResult:
        """Debit ``amount`` under the mandate. The same key twice returns the first result."""
        raise NotImplementedError

    def debit_many(self, requests: list[DebitRequest]) -> dict[str, DebitResult | None]:
        """Several debits in one exchange (banks take batch debit files), by idempotency key.

        None for a key the bank did not answer (timeout): query it, never debit it again.
        Adapters without a batch interface keep this one-by-one default.
        """
        results = {}
        for request in requests:
            try:
                results[request.idempotency_key] = self.debit(
                    token=request.token, amount=request.amount, idempotency_key=request.idempotency_key
                )
            except GatewayUnavailable:
                results[request.idempotency_key] = None
        return results

    def query_debit(self, *, idempotency_key: str) -> DebitResult | None:
        """The outcome of an earlier debit, or None if the bank never received it."""
        raise NotImplementedError

    def statement(self, settle_date: date) -> Statement:
        """The bank's debits processed on ``settle_date`` (Beijing time): a checked CSV file with
        the header ``order_no,amount_fen,status,failure_code,bank_ref,processed_at``. Raises
        StatementRefused for a file that fails its checks."""
        raise NotImplementedError

    def agreement_statement(self, settle_date: date) -> Statement:
        """The agreements signed by the end of ``settle_date`` and their state then: a checked CSV
        file with the header ``agreement_no,status,card_last4,signed_at,ended_at,ended_by``."""
        raise NotImplementedError
