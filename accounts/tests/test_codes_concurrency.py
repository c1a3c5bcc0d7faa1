"""Ten simultaneous verifications of one code on PostgreSQL: exactly one succeeds."""

import threading

import pytest
from django.db import connection

from accounts.models import SmsCode
from accounts.services import CodeRefused, sms_code_send, sms_code_verify
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+8613700137000"


def test_ten_concurrent_verifications_of_one_code_give_one_success(last_code):
    sms_code_send(purpose=SmsCode.Purpose.REGISTER, target=PHONE, phone=PHONE)
    code = last_code(PHONE)
    start = threading.Barrier(10)
    outcomes = []

    def verify():
        try:
            start.wait()
            sms_code_verify(purpose=SmsCode.Purpose.REGISTER, target=PHONE, code=code)
            outcomes.append("accepted")
        except CodeRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=verify) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["accepted"] + ["refused"] * 9
    assert AuditEvent.objects.filter(action="sms_code.verified").count() == 1
    assert AuditEvent.objects.filter(action="sms_code.failed").count() == 9
