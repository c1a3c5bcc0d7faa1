"""Shared steps for the accounts tests."""

from accounts.models import SmsCode
from accounts.services import sms_code_send


def send_code(deliver, purpose, target, phone, user=None):
    with deliver():
        sms_code_send(purpose=purpose, target=target, phone=phone, user=user)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


Purpose = SmsCode.Purpose
