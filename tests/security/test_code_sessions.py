import pytest
from django.test import Client

from accounts.tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613800138011"


def test_a_login_code_only_works_in_the_session_that_asked_for_it(client, deliver, last_code):
    BorrowerFactory(phone=PHONE)
    with deliver():
        client.post("/accounts/login/", {"phone": PHONE, "password": "borrower-pass-123"})
    code = last_code(PHONE)

    other = Client()
    response = other.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert other.get("/accounts/").status_code == 302  # not signed in

    response = client.post("/accounts/login/verify/", {"code": code})
    assert response["Location"] == "/accounts/"  # the code was not spent by the other session
