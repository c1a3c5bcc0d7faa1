"""Simultaneous retries with one Idempotency-Key act once (threads against PostgreSQL)."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.models import SmsCodeSend
from accounts.tests.factories import BorrowerFactory
from api.services import device_token_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_eight_simultaneous_requests_with_one_key_act_once():
    user = BorrowerFactory()
    _token, secret = device_token_create(user=user, device_id="d", device_name="D")
    start = threading.Barrier(8)
    statuses = []

    def send():
        try:
            start.wait()
            answer = Client().post(
                "/api/v1/phone-change",
                json.dumps({}),
                content_type="application/json",
                headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "one-key"},
            )
            statuses.append(answer.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(statuses) == 8
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}  # the first answer, or "still running"
    assert SmsCodeSend.objects.count() == 1
