"""Faults in the services the portal stands on: Redis stopped, the PostgreSQL connection lost.

Redis is the Celery broker: with it stopped, borrowers' requests still complete and every SMS
waits in the outbox table until it is back. A database connection lost half way through a
change rolls the whole change back and shows the error page.
"""

import psycopg
import pytest
from django.db import connection

from accounts.models import Notification
from audit.models import AuditEvent
from cards.models import Card, CardBindRequest, Mandate
from cards.services import unbinding
from cards.tests.conftest import RESERVED
from cards.tests.sandbox_cards import GOOD_DEBIT, OTHER_GOOD_DEBIT
from conftest import broker, free_port
from lending.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.redis
def test_a_card_binds_while_redis_is_down(sign_in, borrower, bank):
    client = sign_in(borrower)
    port = free_port()
    with broker(f"redis://127.0.0.1:{port}/0"):
        response = client.post("/cards/bind/", {"card_number": GOOD_DEBIT, "reserved_phone": RESERVED})
        request = CardBindRequest.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/cards/bind/{request.pk}/confirm/"
        [text] = bank.texts(request.gateway_reference)  # the bank texts its own code

        form = client.get(response["Location"]).context["form"]
        confirmed = client.post(
            response["Location"],
            {
                "code": text["code"],
                "agreement_version": form.policy.version,
                "agreement_sha256": form.policy.sha256,
                "accept_agreement": "on",
            },
        )
        assert confirmed.status_code == 302 and confirmed["Location"] == "/cards/"
    card = Card.objects.get(user=borrower)
    assert card.status == Card.Status.ACTIVE and card.active_mandate is not None
    assert bank.agreement(card.active_mandate.token)["status"] == "active"
    assert Notification.objects.filter(user=borrower, kind="card_bound").exists()


def test_a_connection_lost_half_way_through_an_unbind_changes_nothing(
    sign_in, bind, borrower, action_code, monkeypatch
):
    bind(borrower, GOOD_DEBIT)  # the repayment card
    bind(borrower, OTHER_GOOD_DEBIT)
    card = Card.objects.get(user=borrower, is_repayment=False)
    code = action_code(borrower, "card_unbind", card.pk)
    before = (OutboxMessage.objects.count(), Notification.objects.count())

    real_record = unbinding.record

    def connection_lost(**kwargs):
        """The database server ends our session after the card row was written."""
        pid = connection.connection.info.backend_pid
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        return real_record(**kwargs)

    monkeypatch.setattr(unbinding, "record", connection_lost)
    client = sign_in(borrower)
    client.raise_request_exception = False
    response = client.post(f"/cards/{card.pk}/unbind/", {"code": code}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 500 and "Something went wrong" in response.text
    assert "Traceback" not in response.text and "terminat" not in response.text
    monkeypatch.setattr(unbinding, "record", real_record)
    card.refresh_from_db()  # a new connection: the lost one took its transaction with it
    assert card.status == Card.Status.ACTIVE
    assert Mandate.objects.get(card=card).status == Mandate.Status.ACTIVE
    assert (OutboxMessage.objects.count(), Notification.objects.count()) == before
    assert not AuditEvent.objects.filter(action="card.unbound").exists()  # the code itself was used up
    assert sign_in(borrower).get("/cards/").status_code == 200  # and the next request works
