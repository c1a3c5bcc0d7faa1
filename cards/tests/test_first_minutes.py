"""What a borrower met in the first minutes on the card pages: an "unbind all" that claimed every
card was unbound when none was, offered where it cannot work; an unbind held for review with no
reason given."""

import pytest
from django.contrib.messages import get_messages
from django.db import transaction

from accounts.models import Consent
from audit.actions import Action
from audit.services import record
from cards.models import Card
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED, allow_next_code

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    """The messages the page showed after the action (not the "code sent" one before it)."""
    shown = get_messages(response.wsgi_request)
    return [str(message) for message in shown if "138****8000" not in str(message)]


def an_unbind_today(borrower, settings) -> None:
    """One unbind already today, and one a day allowed: the next goes to review."""
    settings.RISK_UNBINDS_PER_USER_DAY = 0
    with transaction.atomic():
        record(action=Action.CARD_UNBOUND, actor=borrower, subject=borrower)


def unbind_all_through_the_pages(client, deliver, last_code):
    allow_next_code()
    with deliver():
        client.post("/cards/unbind-all/", {"send": "1"})
    with deliver():
        return client.post(
            "/cards/unbind-all/", {"code": last_code(RESERVED)}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
        )


def test_unbind_all_is_offered_only_when_it_can_work(sign_in, bind, borrower, make_loan):
    client = sign_in(borrower)
    card = bind(borrower)
    assert "Unbind all cards" in client.get("/cards/", HTTP_ACCEPT_LANGUAGE="en").text

    Card.objects.filter(pk=card.pk).update(status=Card.Status.PENDING_REVIEW)  # all in review
    assert "Unbind all cards" not in client.get("/cards/", HTTP_ACCEPT_LANGUAGE="en").text
    page = client.get("/cards/unbind-all/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "No card can be unbound now" in page and 'name="code"' not in page

    Card.objects.filter(pk=card.pk).update(status=Card.Status.ACTIVE)
    make_loan(borrower)
    assert "Unbind all cards" not in client.get("/cards/", HTTP_ACCEPT_LANGUAGE="en").text


def test_unbind_all_held_for_review_does_not_say_the_cards_are_unbound(
    sign_in, bind, borrower, deliver, last_code, settings
):
    first, second = bind(borrower), bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    an_unbind_today(borrower, settings)  # every unbind goes to review

    response = unbind_all_through_the_pages(sign_in(borrower), deliver, last_code)

    said = " ".join(messages_of(response))
    assert "Your cards are unbound" not in said and "Unbound:" not in said
    assert str(first) in said and str(second) in said and "needs a check" in said
    assert set(Card.objects.values_list("status", flat=True)) == {"pending_review"}


def test_unbind_all_says_which_cards_went_and_which_wait(
    sign_in, bind, borrower, deliver, last_code, settings
):
    first, second = bind(borrower), bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    settings.RISK_UNBINDS_PER_USER_DAY = 0  # the first unbind passes, the second goes to review

    said = " ".join(messages_of(unbind_all_through_the_pages(sign_in(borrower), deliver, last_code)))

    assert f"Unbound: {first}." in said
    assert f"Unbinding {second} needs a check" in said and "Your cards are unbound" not in said


def test_an_unbind_held_for_review_says_why_and_when(sign_in, bind, borrower, deliver, last_code, settings):
    card = bind(borrower)
    an_unbind_today(borrower, settings)
    client = sign_in(borrower)
    allow_next_code()
    with deliver():
        client.post(f"/cards/{card.pk}/code/", {"purpose": "card_unbind"})
    response = client.post(
        f"/cards/{card.pk}/unbind/", {"code": last_code(RESERVED)}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    [said] = messages_of(response)
    assert "because several cards were unbound from your account today" in said
    assert f"within {settings.REVIEW_SLA_WORKING_HOURS} working hours" in said


def test_a_credit_card_binds_with_the_banks_code_alone_and_keeps_no_debit_authorisation(
    sign_in, borrower, deliver, bank
):
    client = sign_in(borrower)
    with deliver():
        response = client.post(
            "/cards/bind/", {"card_number": sandbox_cards.GOOD_CREDIT, "reserved_phone": RESERVED}
        )
    confirm = response["Location"]
    page = client.get(confirm, HTTP_ACCEPT_LANGUAGE="en").text
    assert "accept_agreement" not in page and "without a debit authorisation" in page

    with deliver():  # the outbox ends the sign-up's agreement at the bank after commit
        response = client.post(confirm, {"code": bank.latest_code()})
    assert response["Location"] == "/cards/"
    card = Card.objects.get(user=borrower)
    assert (card.card_type, card.status, card.is_repayment) == ("credit", "active", False)
    assert not card.mandates.exists() and not Consent.objects.filter(document="debit_authorisation").exists()
    assert bank.agreements(status="active") == []  # nothing left at the bank we do not hold

    page = client.get("/cards/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Cannot repay loans" in page
    assert "Debit authorisation active" not in page and "Authorise debits again" not in page


def test_a_credit_cards_repayment_url_sends_no_code(sign_in, bind, borrower, deliver, sms_outbox):
    credit = bind(borrower, sandbox_cards.GOOD_CREDIT)
    client = sign_in(borrower)
    allow_next_code()
    with deliver():
        response = client.post(
            f"/cards/{credit.pk}/code/", {"purpose": "card_repayment"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert sms_outbox == []
    assert "is a credit card: loans are repaid from debit cards only" in " ".join(messages_of(response))
    response = client.get(f"/cards/{credit.pk}/repayment/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert 'name="code"' not in response.text


def test_a_frozen_account_sees_no_action_it_cannot_take(sign_in, bind, borrower):
    from accounts.services import account_freeze

    card = bind(borrower)
    account_freeze(actor=borrower, user=borrower, reason="this wasn't me")
    borrower.refresh_from_db()  # the freeze ended the sessions of before: sign in again
    client = sign_in(borrower)

    cards = client.get("/cards/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Your account is frozen" in cards
    for action in ("/cards/bind/", f"/cards/{card.pk}/unbind/", "/cards/unbind-all/"):
        assert f'href="{action}"' not in cards, action
    home = client.get("/accounts/", HTTP_ACCEPT_LANGUAGE="en").text
    assert 'href="/accounts/phone/change/"' not in home

    for page in (
        "/cards/bind/",
        f"/cards/{card.pk}/unbind/",
        "/cards/unbind-all/",
        "/accounts/phone/change/",
    ):
        response = client.get(page, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403 and "Automatic repayments of your loans go on" in response.text, (
            page
        )
        assert 'name="code"' not in response.text and 'name="card_number"' not in response.text


def test_notifications_read_in_the_readers_language_whatever_they_were_written_in(
    sign_in, bind, borrower, make_loan
):
    from django.utils import translation

    from accounts.notifications import card_param
    from accounts.services import notification_create

    with translation.override("zh-hans"):  # written while the borrower's pages were in Chinese
        card = bind(borrower)
        notification_create(
            user=borrower,
            kind="debit_failed_retry",
            params={"number": 1, "amount": "80000.00", "card": card_param(card), "retry_on": "2026-12-31"},
        )
    client = sign_in(borrower)

    english = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Industrial and Commercial Bank of China **** 1234" in english and "中国工商银行" not in english
    assert "¥80,000.00" in english and "Dec. 31, 2026" in english
    chinese = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").text
    assert "中国工商银行 **** 1234" in chinese and "2026年12月31日" in chinese
