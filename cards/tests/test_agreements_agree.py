"""A sign-up the bank confirmed is our mandate or is ended at the bank, whatever fails in between
(sandboxes/bank/PROTOCOL.md 4.5), over HTTP against the sandbox bank server."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError

from accounts.policies import current_policy
from cards.gateways.http import HttpBankGateway
from cards.models import CardBindRequest, Mandate
from cards.services import CardRefused, card_bind_confirm, card_bind_start
from cards.services import binding as binding_services
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED
from lending.models import OutboxMessage
from lending.outbox import outbox_relay

pytestmark = pytest.mark.django_db


def started(user) -> CardBindRequest:
    return card_bind_start(actor=user, card_number=sandbox_cards.GOOD_DEBIT, reserved_phone=RESERVED)


def confirm(user, request, code):
    return card_bind_confirm(
        actor=user, request=request, code=code, agreement=current_policy("debit_authorisation")
    )


def active_at_bank(bank, user) -> list[str]:
    """The agreements active at the bank that the borrower's sign-ups made."""
    gateway = HttpBankGateway()
    numbers = [
        gateway.signup_agreement(reference=request.gateway_reference)
        for request in CardBindRequest.objects.filter(user=user)
    ]
    return [no for no in numbers if no and bank.agreement(no)["status"] == "active"]


def mandates_of(user) -> list[str]:
    return [mandate.token for mandate in Mandate.objects.filter(card__user=user, status="active")]


def failing_database(monkeypatch) -> mock.Mock:
    """``_card_create`` fails as a dropped database connection would, after the bank confirmed."""
    create = mock.Mock(side_effect=OperationalError("server closed the connection unexpectedly"))
    monkeypatch.setattr(binding_services, "_card_create", create)
    return create


def test_the_database_failing_after_the_bank_confirmed_ends_the_agreement_at_once(
    http_bank, borrower, monkeypatch, caplog
):
    request = started(borrower)
    code = http_bank.code(request.gateway_reference)
    create = failing_database(monkeypatch)
    with pytest.raises(OperationalError):
        confirm(borrower, request, code)
    token = create.call_args.kwargs["token"]
    assert (http_bank.agreement(token)["status"], http_bank.agreement(token)["ended_by"]) == (
        "ended",
        "merchant",
    )
    assert not Mandate.objects.exists() and not OutboxMessage.objects.exists()
    request.refresh_from_db()
    assert (request.status, request.failure_code) == ("failed", "not_recorded")
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("cards"))
    assert "OperationalError" in ours and token not in ours

    monkeypatch.undo()  # the database is back: the borrower starts again and binds once
    with pytest.raises(CardRefused) as refused:
        confirm(borrower, request, code)
    assert refused.value.code == "expired"
    request = started(borrower)
    confirm(borrower, request, http_bank.code(request.gateway_reference))
    assert active_at_bank(http_bank, borrower) == mandates_of(borrower) and len(mandates_of(borrower)) == 1


def test_the_bank_not_answering_the_unsign_either_queues_it_for_the_outbox(http_bank, borrower, monkeypatch):
    request = started(borrower)
    code = http_bank.code(request.gateway_reference)
    create = failing_database(monkeypatch)
    http_bank.arm("error", operation="unsign", times=3)  # the adapter tries an unsign three times
    with pytest.raises(OperationalError):
        confirm(borrower, request, code)
    token = create.call_args.kwargs["token"]
    assert http_bank.agreement(token)["status"] == "active"
    [queued] = OutboxMessage.objects.all()
    assert queued.task == "cards.tasks.revoke_orphan_token" and token not in str(queued.kwargs)

    assert outbox_relay(min_age=timedelta(0)) == 1
    assert http_bank.agreement(token)["status"] == "ended"
    assert active_at_bank(http_bank, borrower) == [] and not Mandate.objects.exists()


def test_when_nothing_could_end_it_the_borrowers_next_try_does(http_bank, borrower, monkeypatch, deliver):
    """Database and bank both down while the card was recorded: the agreement stays active and
    the request open. The next try hears ``not_pending`` from the bank and ends that agreement."""
    request = started(borrower)
    code = http_bank.code(request.gateway_reference)
    create = failing_database(monkeypatch)
    monkeypatch.setattr(
        binding_services, "outbox_revoke_token_later", mock.Mock(side_effect=OperationalError("still down"))
    )
    http_bank.arm("error", operation="unsign", times=3)
    with pytest.raises(OperationalError):
        confirm(borrower, request, code)
    token = create.call_args.kwargs["token"]
    assert http_bank.agreement(token)["status"] == "active"
    request.refresh_from_db()
    assert request.is_open

    monkeypatch.undo()
    with deliver(), pytest.raises(CardRefused) as refused:
        confirm(borrower, request, code)
    assert refused.value.code == "not_pending"
    assert http_bank.agreement(token)["status"] == "ended" and not Mandate.objects.exists()
    request = started(borrower)
    confirm(borrower, request, http_bank.code(request.gateway_reference))
    assert active_at_bank(http_bank, borrower) == mandates_of(borrower) and len(mandates_of(borrower)) == 1


def test_a_binding_refused_meanwhile_ends_its_agreement(http_bank, borrower, monkeypatch):
    """``_card_create`` refusing (the request closed by another try meanwhile) ends it too."""
    request = started(borrower)
    real = binding_services._card_create

    def closed_meanwhile(**kwargs):
        CardBindRequest.objects.filter(pk=kwargs["request_id"]).update(status="failed")
        closed_meanwhile.token = kwargs["token"]
        return real(**kwargs)

    monkeypatch.setattr(binding_services, "_card_create", closed_meanwhile)
    with pytest.raises(CardRefused) as refused:
        confirm(borrower, request, http_bank.code(request.gateway_reference))
    assert refused.value.code == "not_pending"
    assert http_bank.agreement(closed_meanwhile.token)["status"] == "ended" and not Mandate.objects.exists()


def test_the_sign_up_query_names_the_agreement_a_confirm_made(http_bank, borrower):
    gateway = HttpBankGateway()
    request = started(borrower)
    assert gateway.signup_agreement(reference=request.gateway_reference) is None  # not confirmed yet
    card = confirm(borrower, request, http_bank.code(request.gateway_reference))
    assert gateway.signup_agreement(reference=request.gateway_reference) == card.mandates.get().token
    assert gateway.signup_agreement(reference="s_" + "0" * 32) is None


def test_a_lost_confirm_answer_is_ended_by_the_next_try(http_bank, borrower, deliver):
    """The bank confirmed but its answer never came: the borrower's next try hears ``not_pending``
    and the agreement that sign-up made is ended; the borrower starts again."""
    request = started(borrower)
    code = http_bank.code(request.gateway_reference)
    http_bank.arm("timeout", operation="confirm", when="after")
    with pytest.raises(CardRefused) as refused:
        confirm(borrower, request, code)
    assert refused.value.code == "unavailable"
    token = HttpBankGateway().signup_agreement(reference=request.gateway_reference)
    assert http_bank.agreement(token)["status"] == "active"

    with deliver(), pytest.raises(CardRefused) as refused:
        confirm(borrower, request, code)
    assert refused.value.code == "not_pending"
    assert http_bank.agreement(token)["status"] == "ended" and not Mandate.objects.exists()
    assert active_at_bank(http_bank, borrower) == []
