"""Every state change of loans: disbursement and collection."""

from lending.services.collection import (
    RetryRefused,
    collection_resume,
    debit_attempt_open,
    debit_attempt_settle,
    installment_collect,
    installment_retry,
    loan_collect,
    loans_to_collect,
)
from lending.services.loans import LoanRefused, loan_create
from lending.services.reminders import repayment_card_reminder_send, repayment_card_reminders_send

__all__ = [
    "LoanRefused",
    "RetryRefused",
    "collection_resume",
    "debit_attempt_open",
    "debit_attempt_settle",
    "installment_collect",
    "installment_retry",
    "loan_collect",
    "loan_create",
    "loans_to_collect",
    "repayment_card_reminder_send",
    "repayment_card_reminders_send",
]
