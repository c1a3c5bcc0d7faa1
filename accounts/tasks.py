import random

from celery import shared_task

from accounts.services.sms import sms_deliver, sms_give_up
from accounts.sms import SmsDeliveryError
from audit.context import system_job
from lending.celery import RETRY_BACKOFF_MAX

SMS_MAX_RETRIES = 6  # about five minutes of retries: a code is dead after that anyway


@shared_task(bind=True, max_retries=SMS_MAX_RETRIES)
def send_sms(self, sms_id: int) -> None:
    """Deliver one queued text message; retried with backoff while the provider is unreachable."""
    with system_job("sms-sender"):
        try:
            sms_deliver(sms_id=sms_id)
        except SmsDeliveryError as exc:
            if self.request.retries >= self.max_retries:
                sms_give_up(sms_id=sms_id, reason=f"gave up after {self.request.retries + 1} tries: {exc}")
                return
            countdown = min(5 * 2**self.request.retries, RETRY_BACKOFF_MAX) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret
            raise self.retry(exc=exc, countdown=countdown) from None


@shared_task
def recheck_account_phones() -> int:
    """Beat: ask the carrier again about account phones it gave no answer for."""
    from accounts.services.phone_check import account_phones_recheck

    with system_job("account-phone-recheck"):
        return account_phones_recheck()
