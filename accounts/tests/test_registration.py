import hashlib

import pytest

from accounts.models import Consent, User
from accounts.policies import current_policy
from accounts.services import AlreadyRegistered, CodeRefused, user_register
from accounts.tests.factories import BorrowerFactory
from accounts.tests.helpers import Purpose, send_code, wrong
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"


def register(code, phone=PHONE, password="Lending-pass-2026"):
    return user_register(
        phone=phone, code=code, password=password, privacy=current_policy("privacy", "zh-hans"), language="en"
    )


def test_registration_creates_the_borrower_with_consent_and_history(deliver, last_code):
    send_code(deliver, Purpose.REGISTER, PHONE, PHONE)

    user, device = register(last_code(PHONE))

    assert str(user.phone) == PHONE and user.is_borrower and user.language == "en"
    assert user.check_password("Lending-pass-2026")
    assert device.user == user and device.purpose == Purpose.LOGIN
    consent = Consent.objects.get(user=user)
    policy = current_policy("privacy", "zh-hans")
    assert (consent.document, consent.version, consent.language) == ("privacy", policy.version, "zh-hans")
    assert consent.text_sha256 == hashlib.sha256(policy.text.encode()).hexdigest()
    assert user.history.get().history_change_reason == "registered"
    assert list(AuditEvent.objects.filter(actor=user).order_by("id").values_list("action", flat=True)) == [
        "user.registered",
        "consent.recorded",
    ]


def test_a_wrong_code_creates_nothing(deliver, last_code):
    send_code(deliver, Purpose.REGISTER, PHONE, PHONE)
    with pytest.raises(CodeRefused):
        register(wrong(last_code(PHONE)))
    assert not User.objects.exists() and not Consent.objects.exists()


def test_a_code_for_another_number_does_not_register(deliver, last_code):
    send_code(deliver, Purpose.REGISTER, "+8613900139000", "+8613900139000")
    with pytest.raises(CodeRefused):
        register(last_code("+8613900139000"))
    assert not User.objects.exists()


def test_a_registered_number_is_refused_after_the_code(deliver, last_code):
    existing = BorrowerFactory(phone=PHONE)
    send_code(deliver, Purpose.REGISTER, PHONE, PHONE)  # the same as for a new number

    with pytest.raises(AlreadyRegistered, match="already has an account"):
        register(last_code(PHONE))

    assert User.objects.get() == existing
    event = AuditEvent.objects.get(action="user.register_refused")
    assert event.data == {"phone": "138****8000"}
