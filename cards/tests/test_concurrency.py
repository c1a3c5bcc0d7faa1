"""Races on PostgreSQL, with threads: double submits, two tabs, a swap against an unbind."""

import pytest

from accounts.policies import current_policy
from audit.models import AuditEvent
from cards.models import Card, Mandate
from cards.services import card_bind_confirm, card_bind_start, card_swap, card_unbind
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED
from lending.errors import DomainError
from lending.tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_simultaneous_unbinds_give_one_unbind_one_event_one_revoke(bind, action_code, borrower, bank):
    card = bind(borrower)
    code = action_code(borrower, "card_unbind", card.pk)

    outcomes = race(*[lambda: card_unbind(actor=borrower, card=card, code=code)] * 20)

    assert sum(isinstance(outcome, Card) for outcome in outcomes) == 1
    assert all(isinstance(outcome, (Card, DomainError)) for outcome in outcomes)
    assert AuditEvent.objects.filter(action="card.unbound").count() == 1
    assert AuditEvent.objects.filter(action="mandate.revoked_at_bank").count() == 1
    assert bank.agreement(Mandate.objects.get().token)["status"] == "ended"
    assert Card.objects.get().status == "unbound"


def test_the_same_card_bound_from_two_tabs_gives_one_active_card(deliver, bank, borrower):
    requests, codes = [], []
    for _ in range(2):
        requests.append(
            card_bind_start(actor=borrower, card_number=sandbox_cards.GOOD_DEBIT, reserved_phone=RESERVED)
        )
        codes.append(bank.latest_code())
    agreement = current_policy("debit_authorisation")

    outcomes = race(
        *[
            (lambda r=r, c=c: card_bind_confirm(actor=borrower, request=r, code=c, agreement=agreement))
            for r, c in zip(requests, codes, strict=True)
        ]
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Card", "CardRefused"]
    assert Card.objects.filter(status="active").count() == 1
    assert Mandate.objects.filter(status="active").count() == 1
    # The losing binding's token is revoked at the bank: only one live agreement remains.
    assert len(bank.agreements(status="active")) == 1


def test_a_swap_racing_an_unbind_always_leaves_the_loan_a_repayment_card(
    bind, action_code, borrower, make_loan
):
    old = bind(borrower)
    new = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    make_loan(borrower, principal="5000.00", term_months=6)
    swap_code = action_code(borrower, "card_swap", f"{old.pk}:{new.pk}")
    unbind_code = action_code(borrower, "card_unbind", new.pk)

    race(
        lambda: card_swap(actor=borrower, old=old, new=new, code=swap_code),
        lambda: card_unbind(actor=borrower, card=new, code=unbind_code),
    )

    repayment = Card.objects.get(user=borrower, is_repayment=True, status="active")
    assert repayment.mandates.filter(status="active").exists()
