"""Shared steps for the accounts tests."""

from accounts.models import SmsCode
from accounts.services import sms_code_send


def send_code(deliver, purpose, target, phone, user=None):
    with deliver():
        sms_code_send(purpose=purpose, target=target, phone=phone, user=user)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


Purpose = SmsCode.Purpose


FACE_RETURN_URL = "http://testserver/accounts/phone/lost/face/"


def face_check(change, faceid, *, source="camera"):
    """Start the face check of a lost-phone request (consent first), go through the simulator's
    page as the borrower would, and come back: returns what coming back returns (the case)."""
    from accounts.policies import current_policy
    from accounts.services import phone_lost_face_finish, phone_lost_face_start

    check = phone_lost_face_start(
        change=change, consent=current_policy("biometrics", "en"), return_url=FACE_RETURN_URL
    )
    faceid.finish(check.biz_token, source)
    return phone_lost_face_finish(change=change, biz_token=check.biz_token)
