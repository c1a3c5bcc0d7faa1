"""Text messages: queued in the caller's transaction, delivered after commit by a task."""

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import SmsMessage
from accounts.sms import SmsDeliveryError, SmsRejected, get_backend
from audit.actions import Action
from audit.services import record
from lending.crypto import encrypt
from lending.outbox import outbox_enqueue
from lending.pii import mask_phone


def sms_queue(*, to, template: str, context: dict, language: str, withhold: bool = False) -> SmsMessage:
    """Render ``templates/sms/<template>.txt`` in ``language`` and queue it for ``to``.

    ``withhold``: do every step (render, rows, the task after commit) but send nothing, so a
    request about a number without an account costs what one with an account costs and cannot
    be told apart by its answer time. The number itself is not kept.
    """
    from accounts.tasks import send_sms

    with translation.override(language):
        body = render_to_string(f"sms/{template}.txt", context).strip()
    message = SmsMessage.objects.create(
        to_encrypted=encrypt("" if withhold else str(to)),
        to_masked=mask_phone(to),
        template=template,
        body_encrypted=encrypt(body),
        status=SmsMessage.Status.WITHHELD if withhold else SmsMessage.Status.QUEUED,
    )
    outbox_enqueue(task=send_sms, kwargs={"sms_id": message.pk})
    return message


def sms_deliver(*, sms_id: int) -> None:
    """Hand one queued message to the SMS backend; a sent or failed message is left alone.

    Raises SmsDeliveryError when the provider may take it later (the task retries).
    """
    error = None
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().get(pk=sms_id)
        if message.status != SmsMessage.Status.QUEUED:
            return
        message.attempts += 1
        try:
            reference = get_backend().send(message_id=message.pk, to=message.to, body=message.body)
        except SmsRejected as exc:
            _mark_failed(message, str(exc))
        except SmsDeliveryError as exc:
            message.last_error = str(exc)[:300]
            message.save(update_fields=["attempts", "last_error"])
            error = exc
        else:
            message.status = SmsMessage.Status.SENT
            message.sent_at = timezone.now()
            message.provider_reference = reference
            message.last_error = ""
            message.save(update_fields=["attempts", "status", "sent_at", "provider_reference", "last_error"])
            record(
                action=Action.SMS_DELIVERED,
                actor=None,
                subject=message,
                data={"to": message.to_masked, "template": message.template},
            )
    if error:
        raise error


@transaction.atomic
def sms_give_up(*, sms_id: int, reason: str) -> None:
    """Mark a message failed after the last retry."""
    message = SmsMessage.objects.select_for_update().get(pk=sms_id)
    if message.status == SmsMessage.Status.QUEUED:
        _mark_failed(message, reason)


def _mark_failed(message: SmsMessage, reason: str) -> None:
    message.status = SmsMessage.Status.FAILED
    message.last_error = reason[:300]
    message.save(update_fields=["attempts", "status", "last_error"])
    record(
        action=Action.SMS_DELIVERY_FAILED,
        actor=None,
        subject=message,
        data={"to": message.to_masked, "template": message.template, "reason": message.last_error},
    )
