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


def identity_row(user, number, name="张三"):
    """An identity verified earlier, while the provider answered: for the tests of a provider
    that is down or too slow for this number now (sandboxes/faceid/README.md)."""
    from accounts.models import Identity
    from accounts.validators import resident_id
    from lending.crypto import encrypt

    _number, birth_date = resident_id(number)
    return Identity.objects.create(
        user=user,
        real_name=name,
        id_number_encrypted=encrypt(number),
        id_number_hash=Identity.hash_of(number),
        id_number_masked=Identity.masked(number),
        birth_date=birth_date,
    )
