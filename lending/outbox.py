"""Transactional outbox: side effects leave only after the change that wants them commits.

A service calls ``outbox_enqueue(task=..., kwargs=...)`` inside its transaction. The row
commits with the change (or rolls back with it: nothing is sent for a change that did not
happen); right after commit it is published to Celery, and if the broker is down then, the
beat task ``relay_outbox`` publishes it later. A message may, rarely, be published twice
(a crash between publishing and marking it), so tasks are idempotent.
"""

import enum
import logging
from datetime import timedelta
from functools import partial

from celery import Task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from lending.celery import app
from lending.models import OutboxMessage
from lending.pii import find_pii_in

logger = logging.getLogger(__name__)


class Published(enum.Enum):
    YES = "published"
    SKIPPED = "skipped"  # published already, or another process is publishing it now
    BROKER_DOWN = "broker_down"
    FAILED = "failed"


def outbox_enqueue(*, task: Task, kwargs: dict) -> OutboxMessage:
    """Queue ``task`` with ``kwargs`` (ids, never personal data) to run after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the service's transaction")
    leaked = find_pii_in(kwargs)
    if leaked:
        raise ValueError(f"task arguments for {task.name} hold unmasked {', '.join(leaked)}")
    message = OutboxMessage.objects.create(task=task.name, kwargs=kwargs)
    transaction.on_commit(partial(outbox_publish, message_id=message.pk), robust=True)
    return message


def outbox_publish(*, message_id: int) -> Published:
    """Hand one pending message to Celery and mark it published."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return Published.SKIPPED
        message.attempts += 1
        try:
            app.tasks[message.task].apply_async(kwargs=message.kwargs, task_id=message.celery_task_id)
        except (OperationalError, OSError) as exc:
            outcome, error = Published.BROKER_DOWN, exc
        except Exception as exc:
            outcome, error = Published.FAILED, exc
        else:
            message.status = OutboxMessage.Status.PUBLISHED
            message.published_at = timezone.now()
            message.last_error = ""
            message.save(update_fields=["attempts", "status", "published_at", "last_error"])
            return Published.YES
        message.last_error = f"{type(error).__name__}: {error}"[:300]
        message.save(update_fields=["attempts", "last_error"])
    logger.warning("outbox message %s (%s) not published: %s", message.pk, message.task, message.last_error)
    return outcome


def outbox_relay(*, min_age: timedelta = timedelta(seconds=10), limit: int = 1000) -> int:
    """Publish messages still pending after ``min_age``; stops early while the broker is down.

    ``min_age`` leaves fresh messages to their own after-commit publish.
    """
    cutoff = timezone.now() - min_age
    pending = (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, created_at__lte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    published = 0
    for message_id in list(pending):
        outcome = outbox_publish(message_id=message_id)
        if outcome is Published.BROKER_DOWN:
            break
        published += outcome is Published.YES
    return published
