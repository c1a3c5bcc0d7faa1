from datetime import date

from celery import shared_task
from django.utils import timezone

from audit.context import system_job
from lending.celery import RETRYING
from lending.outbox import outbox_relay
from lending.services import (
    loan_collect,
    loans_to_collect,
    repayment_card_reminders_send,
)


def _day(day: str | None) -> date:
    return date.fromisoformat(day) if day else timezone.localdate()


@shared_task
def relay_outbox() -> int:
    """Beat: publish outbox messages the broker could not take at commit time."""
    with system_job("outbox-relay"):
        return outbox_relay()


@shared_task
def collect_due_installments(day: str | None = None) -> int:
    """Beat, each morning: one ``collect_loan`` task per loan with something to collect.

    Running it twice is harmless: each loan's task collects only what is still due.
    """
    day = _day(day).isoformat()
    count = 0
    for loan_id in loans_to_collect(date.fromisoformat(day)).iterator(chunk_size=5000):
        collect_loan.delay(loan_id, day)
        count += 1
    return count


@shared_task(**RETRYING)
def collect_loan(loan_id: int, day: str) -> int:
    return len(loan_collect(loan_id=loan_id, day=date.fromisoformat(day)))


@shared_task
def remind_missing_repayment_cards(day: str | None = None) -> int:
    """Beat, each morning: tell borrowers whose next installment has no usable repayment card."""
    with system_job("repayment-card-reminder"):
        return repayment_card_reminders_send(day=_day(day))
