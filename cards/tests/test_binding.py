from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Consent
from accounts.policies import current_policy
from accounts.services import account_freeze
from accounts.tests.factories import BorrowerFactory
from audit.models import AuditEvent, ReviewCase, RiskAlert
from cards.models import Card, CardBindRequest, Mandate
from cards.services import CardRefused, card_bind_confirm, card_bind_start
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED

pytestmark = pytest.mark.django_db


def start(deliver, user, number=sandbox_cards.GOOD_DEBIT, reserved=RESERVED):
    with deliver():
        return card_bind_start(actor=user, card_number=number, reserved_phone=reserved)


def confirm(user, request, code):
    return card_bind_confirm(
        actor=user, request=request, code=code, agreement=current_policy("debit_authorisation")
    )


def test_binding_makes_an_active_card_with_a_mandate_and_the_first_debit_card_repays(bind, borrower):
    card = bind(borrower)

    assert (card.status, card.is_repayment, card.card_type, card.bank_code) == (
        "active",
        True,
        "debit",
        "ICBC",
    )
    assert (card.bin, card.last4, card.holder_name, card.reserved_phone_masked) == (
        "622202",
        "1234",
        "张三",
        "138****8000",
    )
    mandate = Mandate.objects.get(card=card)
    assert mandate.status == "active" and mandate.token and mandate.token not in mandate.token_encrypted
    consent = Consent.objects.get(user=borrower, document="debit_authorisation")
    assert consent.text_sha256 == current_policy("debit_authorisation", consent.language).sha256
    bound = AuditEvent.objects.get(action="card.bound")
    assert bound.data == {"bank": "ICBC", "card": "**** 1234", "repayment": True, "review": False}
    assert card.history.get().history_change_reason == "bound"


def test_a_second_card_does_not_take_over_and_a_credit_card_never_repays(bind, borrower):
    first = bind(borrower)
    second = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    credit = bind(borrower, sandbox_cards.GOOD_CREDIT)
    assert (first.is_repayment, second.is_repayment, credit.is_repayment) == (True, False, False)


def test_a_credit_card_alone_is_bound_but_not_the_repayment_card(bind, borrower):
    assert bind(borrower, sandbox_cards.GOOD_CREDIT).is_repayment is False


def test_the_card_number_reaches_only_the_bank(deliver, borrower, bank):
    request = start(deliver, borrower)
    [text] = bank.texts(request.gateway_reference)  # the bank knew the card and texted its holder
    assert (text["card_last4"], text["phone_masked"]) == ("1234", "138****8000")
    assert sandbox_cards.GOOD_DEBIT not in str(CardBindRequest.objects.filter(pk=request.pk).values().get())


@pytest.mark.parametrize(
    "number, code",
    [(sandbox_cards.FOUR_ELEMENTS_FAIL, "four_elements"), (sandbox_cards.CARD_CLOSED, "card_closed")],
)
def test_bank_refusals_are_explained_and_recorded(deliver, borrower, number, code):
    with pytest.raises(CardRefused) as refused:
        start(deliver, borrower, number)
    assert refused.value.code == code
    assert CardBindRequest.objects.get().status == "failed"
    assert AuditEvent.objects.get(action="card.bind_refused").data["why"] == code
    assert not Card.objects.exists()


def test_the_bank_not_answering_binds_nothing(deliver, borrower, bank):
    bank.arm("timeout", operation="sign")
    with pytest.raises(CardRefused, match="did not answer"):
        start(deliver, borrower)
    assert not Card.objects.exists()


def test_identity_is_required_first(deliver):
    with pytest.raises(CardRefused, match="Verify your identity"):
        start(deliver, BorrowerFactory())


def test_a_frozen_account_cannot_bind(deliver, borrower):
    account_freeze(actor=borrower, user=borrower, reason="test")
    with pytest.raises(Exception, match="frozen"):
        start(deliver, borrower)


@pytest.mark.parametrize("number", ["abc", "1" * 30, "4111111111111111", "6222020000000061235"])
def test_bad_numbers_never_reach_the_bank(deliver, borrower, number, bank):
    with pytest.raises(ValidationError):
        start(deliver, borrower, number)
    assert bank.texts() == [] and not CardBindRequest.objects.exists()


def test_a_card_already_on_this_account_is_refused(bind, deliver, borrower):
    bind(borrower)
    with pytest.raises(CardRefused, match="already bound to your account"):
        start(deliver, borrower)


def test_binding_the_card_again_renews_a_mandate_the_bank_ended(bind, borrower, make_loan, sign_in, bank):
    from lending.models import DebitAttempt
    from lending.services import loans_collect
    from lending.tests.conftest import FIRST_DUE

    card = bind(borrower)
    loan = make_loan(borrower)
    ended = card.mandates.get()
    bank.admin("POST", f"/sandbox/agreements/{ended.token}/end")  # at the counter; the notice is not here yet
    [refused] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert refused.failure_code == "mandate_revoked" and Card.objects.get(pk=card.pk).needs_new_mandate
    page = sign_in(borrower).get("/cards/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Authorise debits again" in page

    renewed = bind(borrower)  # the same number, the bank's code again

    assert renewed.pk == card.pk and Card.objects.filter(user=borrower).count() == 1
    active = renewed.mandates.get(status=Mandate.Status.ACTIVE)
    assert active.pk != ended.pk and Mandate.objects.get(pk=ended.pk).status == Mandate.Status.REVOKED
    assert CardBindRequest.objects.latest("pk").card == card
    event = AuditEvent.objects.get(action="card.mandate_renewed")
    assert event.subject_id == str(card.pk) and event.data["repayment"] is True
    [collected] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)  # the stopped installment resumed
    assert (collected.status, collected.mandate_id) == (DebitAttempt.Status.SUCCEEDED, active.pk)
    assert (
        "Authorise debits again"
        not in sign_in(borrower).get("/cards/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_a_card_on_another_account_is_refused_and_raises_an_alert(bind, deliver, borrower):
    bind(borrower)
    other = BorrowerFactory()
    from accounts.services import identity_verify

    identity_verify(actor=other, real_name="李四", id_number="310101198506152345")
    with pytest.raises(CardRefused, match="another account"):
        start(deliver, other)
    alert = RiskAlert.objects.get()
    assert (alert.rule, alert.severity, alert.borrower) == ("card_on_several_accounts", "high", other)


def test_wrong_bank_codes_count_and_five_end_the_binding(deliver, bank, borrower):
    request = start(deliver, borrower)
    code = bank.latest_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(CardRefused, match=f"{left} tr"):
            confirm(borrower, request, wrong)
    with pytest.raises(CardRefused, match="Too many"):
        confirm(borrower, request, wrong)
    with pytest.raises(CardRefused, match="expired"):
        confirm(borrower, request, code)
    assert not Card.objects.exists()


def test_an_expired_request_is_refused(deliver, bank, borrower, settings):
    request = start(deliver, borrower)
    CardBindRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(minutes=settings.BIND_REQUEST_MINUTES + 1)
    )
    with pytest.raises(CardRefused, match="expired"):
        confirm(borrower, request, bank.latest_code())


def test_another_borrowers_request_cannot_be_confirmed(deliver, bank, borrower):
    request = start(deliver, borrower)
    with pytest.raises(CardBindRequest.DoesNotExist):
        confirm(BorrowerFactory(), request, bank.latest_code())


def test_within_a_day_of_a_phone_change_a_new_card_waits_for_review(bind, borrower):
    from accounts.models import PhoneChange

    PhoneChange.objects.create(
        user=borrower,
        status="completed",
        old_phone_masked="x",
        completed_at=timezone.now() - timedelta(hours=2),
    )
    card = bind(borrower)
    assert (card.status, card.is_repayment) == ("pending_review", False)
    case = ReviewCase.objects.get()
    assert (case.kind, case.reasons[0]["code"]) == ("card_bind", "recent_phone_change")
