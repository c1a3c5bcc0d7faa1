"""A full bind and unbind run through the pages; then no full test card number anywhere:
not in any table, log record or response body."""

import logging

import pytest

from accounts.tests.test_no_leaks import database_rows
from cards.models import CardBindRequest
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED, allow_next_code

pytestmark = pytest.mark.django_db

NUMBERS = [n for n in sandbox_cards.ALL] + ["6222 0200 0000 0061 234"]


def test_no_full_card_number_in_tables_logs_or_pages(
    sign_in, deliver, sms_outbox, last_code, borrower, caplog, settings, bank
):
    settings.BIND_STARTS_PER_RESERVED_PHONE_DAY = 10  # four cards with one reserved phone
    caplog.set_level(logging.DEBUG)
    client = sign_in(borrower)
    bodies = []

    def keep(response):
        bodies.append(response.content.decode())
        return response

    for refused in (
        sandbox_cards.FOUR_ELEMENTS_FAIL,
        sandbox_cards.CARD_CLOSED,
        "4111111111111111",
        "6222020000000061235",
    ):
        keep(client.post("/cards/bind/", {"card_number": refused, "reserved_phone": RESERVED}))
    for number in (sandbox_cards.GOOD_DEBIT, sandbox_cards.OTHER_GOOD_DEBIT):
        with deliver():
            keep(client.post("/cards/bind/", {"card_number": number, "reserved_phone": RESERVED}))
        url = f"/cards/bind/{CardBindRequest.objects.latest('id').pk}/confirm/"
        form = keep(client.get(url)).context["form"]
        keep(
            client.post(
                url,
                {
                    "code": "000000",
                    "agreement_version": form.policy.version,
                    "agreement_sha256": form.policy.sha256,
                    "accept_agreement": "on",
                },
            )
        )
        keep(
            client.post(
                url,
                {
                    "code": bank.latest_code(),
                    "agreement_version": form.policy.version,
                    "agreement_sha256": form.policy.sha256,
                    "accept_agreement": "on",
                },
            )
        )
    card = borrower.cards.get(last4="5678", bin="621700")
    keep(client.get("/cards/"))
    keep(client.get(f"/cards/{card.pk}/unbind/"))
    allow_next_code()
    with deliver():
        keep(client.post(f"/cards/{card.pk}/code/", {"purpose": "card_unbind"}, follow=True))
    with deliver():
        keep(client.post(f"/cards/{card.pk}/unbind/", {"code": last_code(RESERVED)}, follow=True))
    keep(client.get("/accounts/security/"))
    keep(client.get("/notifications/"))
    assert borrower.cards.filter(status="unbound").count() == 1  # the run really ran

    digits = [n.replace(" ", "") for n in NUMBERS]
    for body in bodies:
        assert not any(number in body for number in digits)
    for log in caplog.records:
        text = log.getMessage() + (log.exc_text or "")
        assert not any(number in text for number in digits), text
    for table, row in database_rows():
        for column, value in row.items():
            assert not any(number in str(value) for number in digits), (table, column)
