"""SMS backends, chosen by the SMS_BACKEND setting like Django's email backends.

Services never call a backend: they queue an SmsMessage (accounts.services.sms) and the
Celery task ``accounts.tasks.send_sms`` hands it to the backend after commit.
"""

import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from lending.pii import mask_phone


class SmsDeliveryError(Exception):
    """The provider could not take the message now; sending again later may work."""


class SmsRejected(Exception):
    """The provider refused the message for good (bad number, say); do not retry."""


class BaseBackend:
    def send(self, *, message_id: int, to: str, body: str) -> str:
        """Deliver one message; return the provider's reference. Raise the errors above."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Prints each message (recipient masked) to standard output."""

    def send(self, *, message_id, to, body):
        sys.stdout.write(f"SMS #{message_id} to {mask_phone(to)}: {body}\n")
        sys.stdout.flush()
        return f"console-{message_id}"


class DatabaseBackend(BaseBackend):
    """Delivers nowhere: the stored message is read at /dev/sms/ (DEBUG only)."""

    def send(self, *, message_id, to, body):
        return f"db-{message_id}"


class DevelopmentBackend(ConsoleBackend):
    """The embedded default: the console, plus the stored message at /dev/sms/."""


@dataclass(frozen=True)
class SentSms:
    message_id: int
    to: str
    body: str


class LocmemBackend(BaseBackend):
    """Keeps sent messages in ``LocmemBackend.outbox`` (tests)."""

    outbox: list[SentSms] = []

    def send(self, *, message_id, to, body):
        self.outbox.append(SentSms(message_id, to, body))
        return f"locmem-{message_id}"


class HttpBackend(BaseBackend):
    """A generic SMS provider: POSTs JSON to SMS_HTTP_URL, signed with SMS_HTTP_SECRET.

    Body: ``{"id": "sms-<id>", "to": "+86...", "text": "..."}``. Headers: ``X-Timestamp``
    (Unix seconds) and ``X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``;
    ``Idempotency-Key`` repeats the id so a provider can drop a resend. A 2xx answer may
    carry ``{"reference": "..."}``. 4xx is a refusal for good; 5xx, timeouts and network
    errors are retried by the task with backoff.
    """

    def __init__(self):
        self.url = settings.SMS_HTTP_URL
        self.secret = settings.SMS_HTTP_SECRET.encode()
        if not self.url.startswith(("https://", "http://")) or not self.secret:
            raise ImproperlyConfigured("HttpBackend needs SMS_HTTP_URL (http/https) and SMS_HTTP_SECRET.")

    def send(self, *, message_id, to, body):
        payload = json.dumps({"id": f"sms-{message_id}", "to": to, "text": body}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(self.secret, timestamp.encode() + b"." + payload, hashlib.sha256).hexdigest()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Timestamp": timestamp,
                "X-Signature": f"sha256={signature}",
                "Idempotency-Key": f"sms-{message_id}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_HTTP_TIMEOUT) as response:  # noqa: S310 - SMS_HTTP_URL, set by operators
                answer = response.read()
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500:
                raise SmsRejected(f"provider answered {exc.code}") from None
            raise SmsDeliveryError(f"provider answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsDeliveryError(f"provider unreachable: {type(exc).__name__}") from None
        try:
            return str(json.loads(answer or b"{}").get("reference", ""))[:100]
        except (ValueError, AttributeError):
            return ""


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()
