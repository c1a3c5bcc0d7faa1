"""A code page never claims a code was sent unless one was, and says when the next can be asked
for (the 60-second limit stopped the code right after a password reset, after registering and
signing in again, and on step 1 of a phone change)."""

import pytest
from django.test import Client

from accounts.tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613900139005"


def sign_in_with_the_password(client) -> str:
    client.post("/accounts/login/", {"phone": "13900139005", "password": "borrower-pass-123"})
    return client.get("/accounts/login/verify/", HTTP_ACCEPT_LANGUAGE="en").text


def test_a_login_code_stopped_by_the_send_limit_is_not_claimed_and_the_resend_waits(deliver, settings):
    settings.SMS_CODE_RESEND_SECONDS = 60
    BorrowerFactory(phone=PHONE)
    client = Client()
    with deliver():
        client.post("/accounts/password/reset/", {"phone": "13900139005"})  # a code to the number

    page = sign_in_with_the_password(client)  # seconds later: the login code is not sent

    assert "We sent" not in page and "No valid code has been sent to 139****9005" in page
    assert 'disabled aria-describedby="code-wait" data-enable-at=' in page
    assert "You can ask for another code in <span data-seconds>" in page
    assert "/static/js/code-wait.js" in page


def test_a_login_code_sent_says_until_when_it_works_and_the_resend_waits_its_minute(deliver, settings):
    settings.SMS_CODE_RESEND_SECONDS = 60
    BorrowerFactory(phone=PHONE)
    client = Client()
    with deliver():
        page = sign_in_with_the_password(client)
    assert "We sent a 6-digit code to 139****9005. It is valid until" in page
    assert "data-enable-at=" in page  # the next one in a minute

    settings.SMS_CODE_RESEND_SECONDS = 0  # the minute has passed
    page = client.get("/accounts/login/verify/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "data-enable-at=" not in page and "Send a new code" in page


def test_password_reset_says_the_same_for_a_number_with_and_without_an_account(deliver, settings):
    BorrowerFactory(phone=PHONE)
    pages = []
    for typed in ("13900139005", "13900139006"):
        client = Client()
        with deliver():
            client.post("/accounts/password/reset/", {"phone": typed})
        page = client.get("/accounts/password/reset/complete/", HTTP_ACCEPT_LANGUAGE="en").text
        status = page.split('<div class="code-status">')[1].split("</div>")[0]
        pages.append(status.replace(typed[-4:], "****").split("valid until")[0])
    assert "has an account, we sent it a 6-digit code" in pages[0]
    assert pages[0] == pages[1]


def test_phone_change_step_one_stopped_by_the_send_limit_is_not_claimed(sign_in, deliver, settings):
    from accounts.services import sms_code_send

    settings.SMS_CODE_RESEND_SECONDS = 60
    borrower = BorrowerFactory(phone=PHONE)
    with deliver():
        sms_code_send(purpose="login", target=borrower.pk, phone=PHONE, user=borrower)  # just signed in
    client = sign_in(borrower)
    with deliver():
        response = client.post("/accounts/phone/change/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    page = response.text
    assert "We sent a code to your current number" not in page and "We sent a 6-digit code" not in page
    assert "No valid code has been sent to 139****9005" in page and "data-enable-at=" in page
