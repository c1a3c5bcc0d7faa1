from celery import shared_task

from audit.context import system_job
from lending.outbox import outbox_relay


@shared_task
def relay_outbox() -> int:
    """Beat: publish outbox messages the broker could not take at commit time."""
    with system_job("outbox-relay"):
        return outbox_relay()
