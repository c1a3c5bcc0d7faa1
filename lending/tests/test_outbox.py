import pytest
from django.db import transaction

from lending.models import OutboxMessage
from lending.outbox import Published, outbox_enqueue, outbox_publish
from lending.tests.tasks import Refused, remember, runs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_runs():
    while not runs.empty():
        runs.get_nowait()


def test_a_committed_message_runs_after_commit_in_the_embedded_mode(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(task=remember, kwargs={"token": "hello"})
        assert runs.empty()  # nothing leaves before commit

    assert runs.get_nowait() == "hello"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.PUBLISHED, 1)
    assert message.published_at is not None


def test_a_rolled_back_transaction_leaves_no_message(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Refused),
        transaction.atomic(),
    ):
        outbox_enqueue(task=remember, kwargs={"token": "never"})
        raise Refused
    assert not OutboxMessage.objects.exists()
    assert callbacks == [] and runs.empty()


def test_publishing_twice_sends_once():
    with transaction.atomic():
        message = outbox_enqueue(task=remember, kwargs={"token": "once"})

    assert outbox_publish(message_id=message.pk) is Published.YES
    assert outbox_publish(message_id=message.pk) is Published.SKIPPED
    assert runs.get_nowait() == "once" and runs.empty()


def test_an_unknown_task_stays_pending_with_its_error():
    message = OutboxMessage.objects.create(task="lending.tests.no_such_task", kwargs={})

    assert outbox_publish(message_id=message.pk) is Published.FAILED

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1 and "NotRegistered" in message.last_error


def test_personal_data_never_goes_into_task_arguments():
    with pytest.raises(ValueError, match="unmasked phone"), transaction.atomic():
        outbox_enqueue(task=remember, kwargs={"token": "+8613800138000"})


@pytest.mark.django_db(transaction=True)
def test_enqueue_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        outbox_enqueue(task=remember, kwargs={"token": "x"})
