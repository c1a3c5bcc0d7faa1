from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from audit.context import system_job
from lending.celery import RETRYING
from lending.outbox import outbox_relay
from lending.services import (
    loans_collect,
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


def chunks(ids, size: int):
    chunk = []
    for item in ids:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@shared_task
def collect_due_installments(day: str | None = None) -> int:
    """Beat, each morning: one ``collect_loans`` task per ``AUTODEBIT_LOANS_PER_TASK`` loans with
    something to collect (batches keep the bank exchanges and the database writes few).

    Running it twice is harmless: each task collects only what is still due.
    """
    day = _day(day).isoformat()
    loan_ids = loans_to_collect(date.fromisoformat(day)).iterator(chunk_size=5000)
    tasks = 0
    for chunk in chunks(loan_ids, settings.AUTODEBIT_LOANS_PER_TASK):
        collect_loans.delay(chunk, day)
        tasks += 1
    return tasks


@shared_task(**RETRYING)
def collect_loans(loan_ids: list[int], day: str) -> int:
    return len(loans_collect(loan_ids=loan_ids, day=date.fromisoformat(day)))


@shared_task
def remind_missing_repayment_cards(day: str | None = None) -> int:
    """Beat, each morning: tell borrowers whose next installment has no usable repayment card."""
    with system_job("repayment-card-reminder"):
        return repayment_card_reminders_send(day=_day(day))
