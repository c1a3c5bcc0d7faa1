"""A real Celery worker that a fault test runs as its own process, stops at a chosen point and
kills with SIGKILL: ``celery -A tests.faults.killable_worker worker --pool=solo``.

It is the platform's worker (``lending.celery``); the test's environment says where it stops:

TEST_WORKER_NOW      its clock starts at this ISO time and ticks on (time_machine)
TEST_WORKER_STOP     ``chunk``: it stops when a ``collect_loans`` task starts (nothing opened
                     yet). (To stop it at the bank, the test has the sandbox bank hold its
                     debit request unanswered.)
TEST_WORKER_STOPPED  a file it writes once it has stopped there, for the test to wait on
"""

import os
import threading
from datetime import datetime
from pathlib import Path

import time_machine
from celery.signals import task_prerun

from lending.celery import app

__all__ = ["app"]

if os.environ.get("TEST_WORKER_NOW"):
    time_machine.travel(datetime.fromisoformat(os.environ["TEST_WORKER_NOW"]), tick=True).start()


def _stop(point: str) -> None:
    Path(os.environ["TEST_WORKER_STOPPED"]).write_text(point)
    threading.Event().wait()  # until the test kills the process


@task_prerun.connect
def _stop_before_a_chunk(sender=None, **kwargs):
    if os.environ.get("TEST_WORKER_STOP") == "chunk" and sender.name == "lending.tasks.collect_loans":
        _stop("chunk")
