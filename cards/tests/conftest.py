from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SmsCodeSend
from accounts.policies import current_policy
from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory
from cards.services import card_action_code_send, card_bind_confirm, card_bind_start
from cards.tests import sandbox_cards

RESERVED = "+8613800138000"


@pytest.fixture
def borrower():
    user = BorrowerFactory(phone=RESERVED)
    identity_verify(actor=user, real_name="张三", id_number="110105199003071239")
    return user


def allow_next_code():
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))


@pytest.fixture
def bind(deliver, bank):
    """Bind a sandbox card for ``user`` end to end (the bank's code read from its texts)."""

    def run(user, number=sandbox_cards.GOOD_DEBIT, reserved=RESERVED):
        with deliver():
            request = card_bind_start(actor=user, card_number=number, reserved_phone=reserved)
        return card_bind_confirm(
            actor=user,
            request=request,
            code=bank.code(request.gateway_reference),
            agreement=current_policy("debit_authorisation"),
        )

    return run


@pytest.fixture
def action_code(deliver, last_code):
    """Send the code for a card operation to the borrower's phone and return it."""

    def run(user, purpose, target):
        allow_next_code()
        with deliver():
            card_action_code_send(actor=user, purpose=purpose, target=target)
        return last_code(user.phone)

    return run
