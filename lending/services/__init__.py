"""Every state change of loans: disbursement and collection."""

from lending.services.collection import (
    RetryRefused,
    bank_outcomes,
    collection_resume,
    collection_stop,
    debit_attempts_open,
    debit_attempts_settle,
    installment_retry,
    installments_collect,
    installments_overdue_mark,
    loans_collect,
    loans_to_collect,
)
from lending.services.loans import LoanRefused, loan_create
from lending.services.reminders import repayment_card_reminder_send, repayment_card_reminders_send

__all__ = [
    "LoanRefused",
    "RetryRefused",
    "collection_resume",
    "collection_stop",
    "bank_outcomes",
    "debit_attempts_open",
    "debit_attempts_settle",
    "installment_retry",
    "installments_collect",
    "installments_overdue_mark",
    "loans_collect",
    "loan_create",
    "loans_to_collect",
    "repayment_card_reminder_send",
    "repayment_card_reminders_send",
]
