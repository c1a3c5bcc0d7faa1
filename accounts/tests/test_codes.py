from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SmsCode, SmsCodeSend, SmsMessage
from accounts.services import CodeRefused, CodeSendRefused, sms_code_send, sms_code_verify
from accounts.services.codes import _phone_hash
from accounts.tests.factories import BorrowerFactory
from audit.context import RequestContext, bound_request
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
Purpose = SmsCode.Purpose


def send(phone=PHONE, purpose=Purpose.REGISTER, target=None, **kwargs):
    return sms_code_send(purpose=purpose, target=target or phone, phone=phone, **kwargs)


def verify(code, phone=PHONE, purpose=Purpose.REGISTER, target=None):
    return sms_code_verify(purpose=purpose, target=target or phone, code=code)


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_a_code_is_six_digits_sent_by_sms_and_accepted_once(deliver, last_code, sms_outbox):
    with deliver():
        send()
    code = last_code(PHONE)
    assert len(code) == 6 and code.isdigit()
    assert "5" in sms_outbox[-1].body  # "valid for 5 minutes"

    verify(code)
    with pytest.raises(CodeRefused, match="no longer be used"):
        verify(code)  # single use
    assert actions() == ["sms_code.sent", "sms.delivered", "sms_code.verified", "sms_code.failed"]


def test_codes_are_stored_only_as_keyed_hashes(deliver, last_code):
    with deliver():
        send()
    device = SmsCode.objects.get()
    code = last_code(PHONE)
    assert code not in device.code_hash and PHONE not in device.scope and "13800138000" not in device.scope
    message = SmsMessage.objects.get()
    assert code not in message.body_encrypted and "13800138000" not in message.to_encrypted
    assert message.to_masked == "138****8000"


def test_a_code_for_one_operation_never_authorises_another(deliver, last_code):
    with deliver():
        send(purpose=Purpose.PHONE_CHANGE_OLD, target=41)
    code = last_code(PHONE)
    with pytest.raises(CodeRefused):
        verify(code, purpose=Purpose.PHONE_CHANGE_OLD, target=42)
    with pytest.raises(CodeRefused):
        verify(code, purpose=Purpose.LOGIN, target=41)
    verify(code, purpose=Purpose.PHONE_CHANGE_OLD, target=41)


def test_five_wrong_tries_use_a_code_up(deliver, last_code):
    with deliver():
        send()
    code = last_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeRefused, match=f"{left} tr"):
            verify(wrong)
    with pytest.raises(CodeRefused, match="no longer be used"):
        verify(wrong)
    with pytest.raises(CodeRefused, match="no longer be used"):
        verify(code)  # even the right code: a new one must be requested
    assert SmsCode.objects.get().wrong_tries == 5


def test_a_wrong_code_never_sends_a_new_one(deliver, last_code, sms_outbox):
    with deliver():
        send()
    code = last_code(PHONE)
    with deliver(), pytest.raises(CodeRefused):
        verify(f"{(int(code) + 1) % 10**6:06d}")
    assert len(sms_outbox) == 1 and SmsCodeSend.objects.count() == 1


def test_an_expired_code_is_refused(deliver, last_code):
    with deliver():
        send()
    SmsCode.objects.update(valid_until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(CodeRefused, match="expired"):
        verify(last_code(PHONE))


def test_a_new_code_replaces_the_old(deliver, last_code):
    with deliver():
        send()
    first = last_code(PHONE)
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    with deliver():
        send()
    second = last_code(PHONE)
    if first != second:
        with pytest.raises(CodeRefused):
            verify(first)
    verify(second)


def test_wrong_tries_are_throttled_with_django_otp_backoff(settings, deliver, last_code):
    settings.SMS_CODE_THROTTLE_FACTOR = 1
    with deliver():
        send()
    code = last_code(PHONE)
    with pytest.raises(CodeRefused, match="wrong"):
        verify(f"{(int(code) + 1) % 10**6:06d}")
    with pytest.raises(CodeRefused, match="Wait"):
        verify(code)  # within a second of the failure: not even checked
    SmsCode.objects.update(throttling_failure_timestamp=timezone.now() - timedelta(seconds=2))
    verify(code)


def test_one_code_per_number_per_minute_and_the_refusal_says_when(deliver):
    with deliver():
        send()
    with pytest.raises(CodeSendRefused, match="seconds") as refused:
        send(purpose=Purpose.LOGIN, target=1)  # any purpose counts for the number
    assert 0 < (refused.value.retry_at - timezone.now()).total_seconds() <= 60
    assert actions()[-1] == "sms_code.send_refused"
    assert AuditEvent.objects.latest("id").data == {"purpose": "login", "phone": "138****8000"}


def test_ten_codes_per_number_per_day(settings):
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    SmsCodeSend.objects.bulk_create(
        SmsCodeSend(phone_hash=_phone_hash(PHONE), purpose="login", sent_at=midnight + timedelta(seconds=i))
        for i in range(settings.SMS_CODE_DAILY_LIMIT)
    )
    with pytest.raises(CodeSendRefused, match="after") as refused:
        send()
    assert refused.value.retry_at == midnight + timedelta(days=1)


def test_codes_per_client_ip_are_limited(settings):
    settings.SMS_CODE_IP_HOURLY_LIMIT = 3
    with bound_request(RequestContext(request_id="r", ip="203.0.113.9")):
        for n in range(3):
            send(phone=f"+861390000000{n}")
        with pytest.raises(CodeSendRefused):
            send(phone="+8613900000009")
    with bound_request(RequestContext(request_id="r", ip="203.0.113.10")):
        send(phone="+8613900000009")  # another client is not affected


def test_code_events_name_the_borrower_and_mask_the_number(deliver):
    borrower = BorrowerFactory(phone=PHONE)
    with deliver():
        send(purpose=Purpose.LOGIN, target=borrower.pk, user=borrower)
    event = AuditEvent.objects.get(action="sms_code.sent")
    assert event.subject_id == str(borrower.pk)
    assert event.data == {"purpose": "login", "phone": "138****8000"}


def test_deliver_false_counts_and_audits_but_sends_nothing(sms_outbox, deliver):
    with deliver():
        send(deliver=False)
    assert sms_outbox == [] and SmsCodeSend.objects.count() == 1
    assert actions() == ["sms_code.sent"]
