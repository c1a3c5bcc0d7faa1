"""The sandbox bank: a real code path with its own tables, deterministic by the card's last 4 digits.

=========  ==========================================================================
last 4     behaviour
=========  ==========================================================================
``0002``   the four-element check fails (name, ID number, card, reserved phone)
``0069``   the card is closed: binding is refused
``9995``   debits fail with insufficient funds (soft: retried later)
``0119``   debits fail hard: the mandate is revoked at the bank
other      everything succeeds (accounts open with 1,000,000.00)
=========  ==========================================================================

Like a real bank's, its codes go to the reserved phone (through the SMS backends, so they
show at /dev/sms/) and live in its own tables (cards.sandbox_bank); the platform only
passes on what the borrower typed. ``faults`` switches network-like failures on for tests.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation

from accounts.services.sms import sms_queue
from cards.bins import bank_of
from cards.gateways.base import BankGateway, BindRefused, DebitRequest, DebitResult, GatewayUnavailable
from cards.sandbox_bank.models import BankAccount, BankAgreement, BankBinding, BankDebit
from lending.crypto import fingerprint
from lending.db import insert_rows, update_rows

FOUR_ELEMENTS_FAIL, CARD_CLOSED, INSUFFICIENT_FUNDS, HARD_FAIL = "0002", "0069", "9995", "0119"
OPENING_BALANCE = Decimal("1000000.00")
CODE_MINUTES = 5
CODE_TRIES = 5


class Faults:
    """Network-like failures for the next calls: a timeout before the bank processes the
    request (nothing happened) or after (it happened, the answer was lost)."""

    def __init__(self):
        self.pending: list[tuple[str, bool]] = []

    def timeout(self, method: str, *, after_processing: bool = False, times: int = 1) -> None:
        self.pending.extend([(method, after_processing)] * times)

    def clear(self) -> None:
        self.pending.clear()

    def check(self, method: str, *, processed: bool) -> None:
        if (method, processed) in self.pending:
            self.pending.remove((method, processed))
            raise GatewayUnavailable("the bank did not answer in time")


faults = Faults()


def _code_hash(reference: str, code: str) -> str:
    return fingerprint(f"sandbox-code:{reference}:{code}")


class SandboxGateway(BankGateway):
    def bind_start(self, *, holder_name, id_number, card_number, reserved_phone):
        faults.check("bind_start", processed=False)
        last4 = card_number[-4:]
        if last4 == FOUR_ELEMENTS_FAIL:
            raise BindRefused("the four elements do not match the bank's records", code="four_elements")
        if last4 == CARD_CLOSED:
            raise BindRefused("the card is closed", code="card_closed")
        holder = fingerprint(f"sandbox-holder:{holder_name}|{id_number.upper()}|{reserved_phone}")
        with transaction.atomic():
            account, created = BankAccount.objects.select_for_update().get_or_create(
                card_hash=fingerprint(f"sandbox-card:{card_number}"),
                defaults={"last4": last4, "holder_hash": holder, "balance": OPENING_BALANCE},
            )
            if not created and account.holder_hash != holder:
                raise BindRefused("the four elements do not match the bank's records", code="four_elements")
            if account.status == BankAccount.Status.CLOSED:
                raise BindRefused("the card is closed", code="card_closed")
            reference = secrets.token_hex(16)
            code = f"{secrets.randbelow(10**6):06d}"
            BankBinding.objects.create(
                reference=reference,
                account=account,
                code_hash=_code_hash(reference, code),
                expires_at=timezone.now() + timedelta(minutes=CODE_MINUTES),
            )
            entry = bank_of(card_number)
            bank = entry.bank_name if entry else "Sandbox bank"
            context = {"code": code, "bank": bank, "last4": last4}
            sms_queue(
                to=reserved_phone, template="bank_code", context=context, language=translation.get_language()
            )
        faults.check("bind_start", processed=True)
        return reference

    def bind_confirm(self, *, reference, code):
        faults.check("bind_confirm", processed=False)
        refusal = None
        with transaction.atomic():
            binding = BankBinding.objects.select_for_update().filter(reference=reference).first()
            if binding is None or binding.status != BankBinding.Status.PENDING:
                raise BindRefused("the binding is no longer pending", code="not_pending")
            if timezone.now() > binding.expires_at:
                binding.status = BankBinding.Status.FAILED
                binding.save()
                refusal = BindRefused("the bank's code has expired", code="code_expired")
            elif not hmac.compare_digest(binding.code_hash, _code_hash(reference, str(code))):
                binding.wrong_tries += 1
                if binding.wrong_tries >= CODE_TRIES:
                    binding.status = BankBinding.Status.FAILED
                binding.save()
                refusal = BindRefused("the bank's code is wrong", code="code_wrong")
            else:
                binding.status = BankBinding.Status.CONFIRMED
                binding.save()
                token = secrets.token_hex(24)
                BankAgreement.objects.create(token=token, account=binding.account)
        if refusal:
            raise refusal
        faults.check("bind_confirm", processed=True)
        return token

    def revoke(self, *, token):
        faults.check("revoke", processed=False)
        BankAgreement.objects.filter(token=token, status=BankAgreement.Status.ACTIVE).update(
            status=BankAgreement.Status.REVOKED, revoked_at=timezone.now()
        )
        faults.check("revoke", processed=True)

    def debit(self, *, token, amount, idempotency_key):
        faults.check("debit", processed=False)
        result = self._debit_batch([DebitRequest(token, Decimal(amount), idempotency_key)])[idempotency_key]
        faults.check("debit", processed=True)
        return result

    def debit_many(self, requests):
        if any(method == "debit" for method, _ in faults.pending):
            return super().debit_many(requests)  # a fault is due: one by one, so it hits one debit
        return self._debit_batch(requests)

    def query_debit(self, *, idempotency_key):
        faults.check("query_debit", processed=False)
        debit = BankDebit.objects.filter(idempotency_key=idempotency_key).first()
        return self._result(debit) if debit else None

    @staticmethod
    def _result(debit: BankDebit) -> DebitResult:
        return DebitResult(debit.succeeded, debit.reference, debit.failure_code, debit.soft)

    def _debit_batch(self, requests: list[DebitRequest]) -> dict[str, DebitResult]:
        """Debit under each request's agreement once per idempotency key, in one transaction.

        Works on plain values, not model instances: a collection run sends thousands of
        debits at a time (bench/autodebit.py)."""
        keys = [request.idempotency_key for request in requests]
        with transaction.atomic():
            agreements = _agreements_locked({request.token for request in requests})
            results = _results_of(keys)
            now, debits, ended = timezone.now(), [], []
            for request in requests:
                key = request.idempotency_key
                if key in results:
                    continue
                agreement = agreements[request.token]
                failure, soft = self._decide(agreement, request.amount)
                if agreement.status == BankAgreement.Status.REVOKED and agreement.revoked_at is None:
                    agreement.revoked_at = now  # the bank's record of when the agreement ended
                    ended.append(agreement)
                results[key] = result = DebitResult(not failure, secrets.token_hex(12), failure, soft)
                debits.append(
                    (
                        key,
                        agreement.pk,
                        request.amount,
                        result.succeeded,
                        failure,
                        soft,
                        result.reference,
                        now,
                    )
                )
            accounts = {agreement.account for agreement in agreements.values() if agreement.account.debited}
            update_rows(BankAccount, ["balance"], [(account.pk, account.balance) for account in accounts])
            update_rows(
                BankAgreement, ["status", "revoked_at"], [(a.pk, a.status, a.revoked_at) for a in ended]
            )
            insert_rows(BankDebit, _DEBIT_FIELDS, debits)
        return {key: results[key] for key in keys}

    @staticmethod
    def _decide(agreement: "_Agreement", amount: Decimal) -> tuple[str, bool]:
        """The bank's rules for one debit: (failure code or "", soft). Takes the money on success."""
        account = agreement.account
        if agreement.status == BankAgreement.Status.REVOKED:
            return "mandate_revoked", False
        if account.status == BankAccount.Status.CLOSED:
            return "card_closed", False
        if account.last4 == HARD_FAIL:
            agreement.status = BankAgreement.Status.REVOKED
            return "mandate_revoked", False
        if account.last4 == INSUFFICIENT_FUNDS or account.balance < amount:
            return "insufficient_funds", True
        account.balance -= amount
        account.debited = True
        return "", False


_DEBIT_FIELDS = [
    "idempotency_key",
    "agreement_id",
    "amount",
    "succeeded",
    "failure_code",
    "soft",
    "reference",
    "created_at",
]


_AGREEMENT_COLUMNS = (
    "token",
    "pk",
    "status",
    "revoked_at",
    "account_id",
    "account__status",
    "account__last4",
    "account__balance",
)


def _agreements_locked(tokens) -> dict[str, "_Agreement"]:
    """The agreements under ``tokens`` with their accounts, by token; both locked (FOR UPDATE
    without OF locks the rows of every table in the query)."""
    rows = (
        BankAgreement.objects.select_for_update()
        .filter(token__in=tokens)
        .order_by("pk")
        .values_list(*_AGREEMENT_COLUMNS)
    )
    accounts, agreements = {}, {}
    for token, pk, status, revoked_at, account_id, account_status, last4, balance in rows:
        account = accounts.setdefault(account_id, _Account(account_id, account_status, last4, balance))
        agreements[token] = _Agreement(pk, status, revoked_at, account)
    return agreements


def _results_of(keys) -> dict[str, DebitResult]:
    """What the bank already answered for any of ``keys``."""
    rows = BankDebit.objects.filter(idempotency_key__in=keys).values_list(
        "idempotency_key", "succeeded", "reference", "failure_code", "soft"
    )
    return {
        key: DebitResult(succeeded, reference, failure, soft)
        for key, succeeded, reference, failure, soft in rows
    }


@dataclass(eq=False)
class _Account:
    pk: int
    status: str
    last4: str
    balance: Decimal
    debited: bool = False


@dataclass(eq=False)
class _Agreement:
    pk: int
    status: str
    revoked_at: datetime | None
    account: _Account
