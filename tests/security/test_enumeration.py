"""Registration and password reset answer the same for a registered and a new number."""

import re

import pytest
from django.test import Client

from accounts.tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db

REGISTERED, NEW = "13800138000", "13811118000"  # both shown as 138****8000


def answer(url: str, phone: str) -> tuple[int, str, int, str]:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(url, {"phone": phone})
    page = client.get(response["Location"]) if response.status_code == 302 else response
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.content.decode())
    return response.status_code, response.get("Location", ""), page.status_code, body


@pytest.mark.parametrize("url", ["/accounts/register/", "/accounts/password/reset/"])
def test_the_answer_does_not_tell_whether_the_number_has_an_account(url, settings):
    settings.SMS_CODE_THROTTLE_FACTOR = 0
    BorrowerFactory(phone="+86" + REGISTERED)
    registered, new = answer(url, REGISTERED), answer(url, NEW)
    assert registered[:3] == new[:3] and registered[0] == 302
    assert registered[3] == new[3]
