from accounts.models import SmsCode, User
from accounts.services.codes import sms_code_send

PURPOSES = (SmsCode.Purpose.DATA_COPY, SmsCode.Purpose.ACCOUNT_CLOSE)


def privacy_code_send(*, actor: User, purpose: str) -> None:
    """A code to the account phone for a copy of the data or for closing the account."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    sms_code_send(purpose=purpose, target=actor.pk, phone=actor.phone, user=actor, actor=actor)
