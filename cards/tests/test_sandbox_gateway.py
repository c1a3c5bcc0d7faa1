import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cards.gateways import get_gateway
from cards.gateways.base import BindRefused, DebitRequest, GatewayUnavailable
from cards.gateways.sandbox import faults
from cards.sandbox_bank.models import BankAccount, BankAgreement, BankBinding, BankDebit
from cards.tests import sandbox_cards

pytestmark = pytest.mark.django_db

HOLDER = {"holder_name": "张三", "id_number": "110105199003071239", "reserved_phone": "+8613800138000"}


@pytest.fixture(autouse=True)
def _no_faults():
    faults.clear()
    yield
    faults.clear()


def bind(deliver, sms_outbox, card=sandbox_cards.GOOD_DEBIT, **holder):
    gateway = get_gateway()
    with deliver():
        reference = gateway.bind_start(card_number=card, **{**HOLDER, **holder})
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1].body).group(1)
    return gateway, reference, code


def test_binding_sends_the_banks_code_to_the_reserved_phone_and_returns_a_token(deliver, sms_outbox):
    gateway, reference, code = bind(deliver, sms_outbox)
    assert sms_outbox[-1].to == "+8613800138000" and "1234" in sms_outbox[-1].body
    token = gateway.bind_confirm(reference=reference, code=code)
    assert BankAgreement.objects.get(token=token).status == "active"
    with pytest.raises(BindRefused):
        gateway.bind_confirm(reference=reference, code=code)  # once


def test_the_bank_keeps_no_card_or_id_number(deliver, sms_outbox):
    bind(deliver, sms_outbox)
    account = BankAccount.objects.get()
    assert sandbox_cards.GOOD_DEBIT not in str(account.__dict__) and "110105199003071239" not in str(
        account.__dict__
    )


@pytest.mark.parametrize(
    "card, code",
    [(sandbox_cards.FOUR_ELEMENTS_FAIL, "four_elements"), (sandbox_cards.CARD_CLOSED, "card_closed")],
)
def test_refused_cards(deliver, sms_outbox, card, code):
    with pytest.raises(BindRefused) as refused:
        get_gateway().bind_start(card_number=card, **HOLDER)
    assert refused.value.code == code and card not in str(refused.value)
    assert sms_outbox == []


def test_another_holder_on_a_known_card_fails_the_four_element_check(deliver, sms_outbox):
    bind(deliver, sms_outbox)
    with pytest.raises(BindRefused, match="four elements"):
        get_gateway().bind_start(card_number=sandbox_cards.GOOD_DEBIT, **{**HOLDER, "holder_name": "李四"})


def test_wrong_and_expired_bank_codes(deliver, sms_outbox):
    gateway, reference, code = bind(deliver, sms_outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(BindRefused, match="wrong"):
            gateway.bind_confirm(reference=reference, code=wrong)
    with pytest.raises(BindRefused, match="no longer pending"):
        gateway.bind_confirm(reference=reference, code=code)

    gateway, reference, code = bind(deliver, sms_outbox)
    BankBinding.objects.filter(reference=reference).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(BindRefused, match="expired"):
        gateway.bind_confirm(reference=reference, code=code)


def agreement(deliver, sms_outbox, card=sandbox_cards.GOOD_DEBIT):
    gateway, reference, code = bind(deliver, sms_outbox, card)
    return gateway, gateway.bind_confirm(reference=reference, code=code)


def test_a_debit_with_the_same_key_twice_debits_once(deliver, sms_outbox):
    gateway, token = agreement(deliver, sms_outbox)
    first = gateway.debit(token=token, amount=Decimal("100.50"), idempotency_key="inst-1-try-1")
    second = gateway.debit(token=token, amount=Decimal("100.50"), idempotency_key="inst-1-try-1")
    assert first.succeeded and first == second
    assert BankAccount.objects.get().balance == Decimal("999899.50")
    assert gateway.query_debit(idempotency_key="inst-1-try-1") == first
    assert gateway.query_debit(idempotency_key="never-sent") is None


def test_insufficient_funds_is_soft_and_a_hard_failure_revokes(deliver, sms_outbox):
    gateway, token = agreement(deliver, sms_outbox, sandbox_cards.INSUFFICIENT_FUNDS)
    result = gateway.debit(token=token, amount=Decimal("1"), idempotency_key="k1")
    assert (result.succeeded, result.failure_code, result.soft) == (False, "insufficient_funds", True)

    gateway, token = agreement(deliver, sms_outbox, sandbox_cards.HARD_FAIL)
    result = gateway.debit(token=token, amount=Decimal("1"), idempotency_key="k2")
    assert (result.succeeded, result.failure_code, result.soft) == (False, "mandate_revoked", False)
    assert BankAgreement.objects.get(token=token).status == "revoked"


def test_a_revoked_mandate_cannot_be_debited(deliver, sms_outbox):
    gateway, token = agreement(deliver, sms_outbox)
    gateway.revoke(token=token)
    gateway.revoke(token=token)  # twice is fine
    assert (
        gateway.debit(token=token, amount=Decimal("1"), idempotency_key="k").failure_code == "mandate_revoked"
    )


def test_an_agreement_ended_without_a_date_gets_one_at_the_next_debit(deliver, sms_outbox):
    gateway, token = agreement(deliver, sms_outbox)
    BankAgreement.objects.filter(token=token).update(status=BankAgreement.Status.REVOKED)
    assert gateway.debit_many([DebitRequest(token, Decimal("1"), "k")])["k"].failure_code == "mandate_revoked"
    assert BankAgreement.objects.get(token=token).revoked_at is not None


def test_a_timeout_after_processing_is_resolved_by_querying(deliver, sms_outbox):
    gateway, token = agreement(deliver, sms_outbox)
    faults.timeout("debit", after_processing=True)
    with pytest.raises(GatewayUnavailable):
        gateway.debit(token=token, amount=Decimal("10"), idempotency_key="k-lost")
    assert gateway.query_debit(idempotency_key="k-lost").succeeded  # it did happen
    assert BankDebit.objects.count() == 1


def test_a_timeout_before_processing_leaves_nothing(deliver, sms_outbox):
    gateway, token = agreement(deliver, sms_outbox)
    faults.timeout("debit")
    with pytest.raises(GatewayUnavailable):
        gateway.debit(token=token, amount=Decimal("10"), idempotency_key="k-never")
    assert gateway.query_debit(idempotency_key="k-never") is None
