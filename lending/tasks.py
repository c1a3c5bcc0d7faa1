from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from audit.context import system_job
from lending.celery import RETRYING
from lending.models import DebitAttempt
from lending.outbox import outbox_relay
from lending.services import (
    loans_collect,
    loans_to_collect,
    repayment_card_reminders_send,
)
from lending.services.collection import follow_up_day, installments_overdue_mark


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

    Running it twice is harmless: each task collects only what is still due. Installments of
    earlier days still due are marked overdue first, in case the close's run was missed.
    """
    day = _day(day)
    installments_overdue_mark(day=day)
    return _collection_fan_out(day, DebitAttempt.Trigger.SCHEDULE)


@shared_task
def mark_overdue_installments(day: str | None = None) -> int:
    """Beat, when the collection window closes (``AUTODEBIT_WINDOW_CLOSES_AT``): installments due
    by today and not collected become overdue, and their loans with them."""
    return installments_overdue_mark(day=_day(day))


@shared_task
def collect_stragglers() -> int:
    """Beat, every ``AUTODEBIT_FOLLOW_UP_MINUTES`` (nothing outside the follow-up hours): the
    same morning, collect the loans the morning run missed because the worker holding them died
    before opening their attempts (marked as picked up late), and ask the bank about attempts a
    dead worker left pending (sent again if the bank never received them). The broker would
    redeliver the dead worker's task only after its visibility timeout."""
    day = follow_up_day(timezone.now())
    return _collection_fan_out(day, DebitAttempt.Trigger.FOLLOW_UP) if day else 0


def _collection_fan_out(day: date, trigger: str) -> int:
    loan_ids = loans_to_collect(day, trigger).iterator(chunk_size=5000)
    tasks = 0
    for chunk in chunks(loan_ids, settings.AUTODEBIT_LOANS_PER_TASK):
        collect_loans.delay(chunk, day.isoformat(), trigger)
        tasks += 1
    return tasks


@shared_task(**RETRYING)
def collect_loans(loan_ids: list[int], day: str, trigger: str = DebitAttempt.Trigger.SCHEDULE) -> int:
    return len(loans_collect(loan_ids=loan_ids, day=date.fromisoformat(day), trigger=trigger))


@shared_task
def remind_missing_repayment_cards(day: str | None = None) -> int:
    """Beat, each morning: tell borrowers whose next installment has no usable repayment card."""
    with system_job("repayment-card-reminder"):
        return repayment_card_reminders_send(day=_day(day))
