"""Delivery of queued texts through the backends, including a real local HTTP provider."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction

from accounts.models import SmsMessage
from accounts.services import sms_deliver, sms_give_up, sms_queue
from accounts.sms import ConsoleBackend, HttpBackend, SmsDeliveryError, SmsRejected
from accounts.tasks import send_sms
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"


def queue(template="password_changed", language="zh-hans"):
    with transaction.atomic():
        return sms_queue(to=PHONE, template=template, context={}, language=language)


def test_texts_are_rendered_in_the_recipients_language():
    assert "密码" in queue(language="zh-hans").body
    assert "password" in queue(language="en").body


def test_delivery_marks_the_message_sent_once(sms_outbox):
    message = queue()
    sms_deliver(sms_id=message.pk)
    sms_deliver(sms_id=message.pk)  # a task delivered twice
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT and message.attempts == 1
    assert len(sms_outbox) == 1
    assert AuditEvent.objects.get().data == {"to": "138****8000", "template": "password_changed"}


def test_the_console_backend_masks_the_number(capsys):
    ConsoleBackend().send(message_id=1, to=PHONE, body="hello")
    out = capsys.readouterr().out
    assert "138****8000" in out and "13800138000" not in out


class Provider(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict, dict]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Provider.received.append((dict(self.headers), body))
        status = Provider.answers.pop(0) if Provider.answers else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"reference": "prov-1"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(settings):
    server = HTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Provider.answers, Provider.received = [], []
    settings.SMS_BACKEND = "accounts.sms.HttpBackend"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_HTTP_SECRET = "provider-secret"
    settings.SMS_HTTP_TIMEOUT = 5
    yield Provider
    server.shutdown()


def test_the_http_backend_posts_signed_json(provider):
    message = queue()
    sms_deliver(sms_id=message.pk)

    headers, body = provider.received[0]
    expected = hmac.new(b"provider-secret", headers["X-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Signature"] == f"sha256={expected.hexdigest()}"
    assert headers["Idempotency-Key"] == f"sms-{message.pk}"
    assert json.loads(body) == {"id": f"sms-{message.pk}", "to": PHONE, "text": message.body}
    message.refresh_from_db()
    assert (message.status, message.provider_reference) == (SmsMessage.Status.SENT, "prov-1")


def test_a_provider_error_is_retried_and_a_refusal_is_final(provider):
    provider.answers = [503, 400]
    message = queue()
    with pytest.raises(SmsDeliveryError):
        sms_deliver(sms_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (SmsMessage.Status.QUEUED, 1)

    sms_deliver(sms_id=message.pk)  # 400: refused for good
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.FAILED and "400" in message.last_error
    assert AuditEvent.objects.get().action == "sms.delivery_failed"


def test_an_unreachable_provider_is_retried(settings):
    settings.SMS_BACKEND = "accounts.sms.HttpBackend"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/send"
    settings.SMS_HTTP_SECRET = "s"
    message = queue()
    with pytest.raises(SmsDeliveryError, match="unreachable"):
        sms_deliver(sms_id=message.pk)


def test_the_task_gives_up_after_its_retries(provider, monkeypatch):
    provider.answers = [503] * 10
    message = queue()
    send_sms.apply(kwargs={"sms_id": message.pk}, retries=send_sms.max_retries)
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.FAILED and "gave up" in message.last_error


def test_give_up_leaves_a_sent_message_alone(sms_outbox):
    message = queue()
    sms_deliver(sms_id=message.pk)
    sms_give_up(sms_id=message.pk, reason="late")
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT


def test_the_http_backend_needs_its_settings(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SMS_HTTP_URL = "ftp://x"
    with pytest.raises(ImproperlyConfigured):
        HttpBackend()
    assert SmsRejected and SmsDeliveryError  # both outcomes are part of the interface
