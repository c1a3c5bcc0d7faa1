"""The outbox with a real Redis broker and a real Celery worker."""

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.utils import timezone

from conftest import broker, free_port, redis_server
from lending.celery import app
from lending.models import OutboxMessage
from lending.outbox import outbox_enqueue, outbox_relay
from lending.tasks import relay_outbox
from lending.tests.tasks import Refused, remember, runs

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_runs():
    while not runs.empty():
        runs.get_nowait()


def test_a_task_sent_on_commit_runs_on_a_real_worker(celery_worker):
    with transaction.atomic():
        outbox_enqueue(task=remember, kwargs={"token": "committed"})

    assert runs.get(timeout=20) == "committed"
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PUBLISHED


def test_a_task_from_a_rolled_back_transaction_is_never_sent(celery_worker):
    with pytest.raises(Refused), transaction.atomic():
        outbox_enqueue(task=remember, kwargs={"token": "rolled-back"})
        raise Refused
    with transaction.atomic():
        outbox_enqueue(task=remember, kwargs={"token": "sentinel"})

    # One worker takes tasks in order: had the first been sent, it would arrive first.
    assert runs.get(timeout=20) == "sentinel"
    assert runs.empty()
    assert list(OutboxMessage.objects.values_list("kwargs", flat=True)) == [{"token": "sentinel"}]


def test_messages_wait_while_the_broker_is_down_and_go_out_when_it_answers(tmp_path):
    port = free_port()
    with broker(f"redis://127.0.0.1:{port}/0"):
        with transaction.atomic():
            outbox_enqueue(task=remember, kwargs={"token": "late"})
        message = OutboxMessage.objects.get()
        assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 1)
        assert outbox_relay(min_age=timedelta(0)) == 0  # still down: kept, not lost
        assert OutboxMessage.objects.get().status == OutboxMessage.Status.PENDING

        OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=1))
        with redis_server(port, tmp_path), start_worker(app, pool="solo", perform_ping_check=False):
            assert relay_outbox() == 1  # the beat task
            assert runs.get(timeout=20) == "late"

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.PUBLISHED, 3)
