"""Tasks the tests send through the outbox; each run is reported on a queue the test reads."""

import queue

from celery import shared_task

runs: queue.Queue = queue.Queue()


class Refused(Exception):
    """Raised inside a transaction to roll it back."""


@shared_task(name="lending.tests.remember")
def remember(token: str) -> None:
    runs.put(token)
