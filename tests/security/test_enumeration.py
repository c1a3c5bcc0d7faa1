"""Registration and password reset answer the same for a registered and a new number."""

import re

import pytest
from django.test import Client

from accounts.tests.factories import BorrowerFactory
from tests.pages import comparable

pytestmark = pytest.mark.django_db

REGISTERED, NEW = "13800138000", "13811118000"  # both shown as 138****8000
OWN_NUMBERS = ("13912349001", "13956789001")  # two borrowers asking, both shown as 139****9001


def answer(url: str, phone: str) -> tuple[int, str, int, str]:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(url, {"phone": phone})
    page = client.get(response["Location"]) if response.status_code == 302 else response
    body = comparable(page.content.decode())
    return response.status_code, response.get("Location", ""), page.status_code, body


@pytest.mark.parametrize("url", ["/accounts/register/", "/accounts/password/reset/"])
def test_the_answer_does_not_tell_whether_the_number_has_an_account(url, settings):
    settings.SMS_CODE_THROTTLE_FACTOR = 0
    BorrowerFactory(phone="+86" + REGISTERED)
    registered, new = answer(url, REGISTERED), answer(url, NEW)
    assert registered[:3] == new[:3] and registered[0] == 302
    assert registered[3] == new[3]


def _same_page(body: str) -> str:
    """The page with what differs per request anyway (CSRF token, object ids) taken out."""
    return re.sub(r"/accounts/phone/change/\d+/", "/accounts/phone/change/N/", comparable(body))


def _new_number_answer(sign_in, deliver, last_code, phone: str, new_phone: str) -> tuple:
    """A borrower of ``phone`` reaches the new-number step of a phone change and enters ``new_phone``."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import PhoneChange, SmsCodeSend

    borrower = BorrowerFactory(phone="+86" + phone)
    client = sign_in(borrower)
    with deliver():
        client.post("/accounts/phone/change/")
    change = PhoneChange.objects.get(user=borrower)
    client.post(f"/accounts/phone/change/{change.pk}/old/", {"code": last_code(borrower.phone)})
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    with deliver():
        response = client.post(
            f"/accounts/phone/change/{change.pk}/new/", {"new_phone": new_phone}, HTTP_ACCEPT_LANGUAGE="en"
        )
    page = (
        client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
        if response.status_code == 302
        else response
    )
    client.logout()
    return response.status_code, page.status_code, _same_page(page.content.decode())


def test_the_new_number_of_a_phone_change_is_answered_the_same_whether_registered_or_not(
    settings, sign_in, deliver, last_code, sms_outbox
):
    settings.SMS_CODE_THROTTLE_FACTOR = 0
    BorrowerFactory(phone="+86" + REGISTERED)
    registered = _new_number_answer(sign_in, deliver, last_code, OWN_NUMBERS[0], REGISTERED)
    new = _new_number_answer(sign_in, deliver, last_code, OWN_NUMBERS[1], NEW)
    assert registered == new and registered[0] == 302
    assert {sms.to for sms in sms_outbox} >= {"+86" + REGISTERED, "+86" + NEW}  # both were texted


def test_the_new_number_of_a_lost_phone_request_is_answered_the_same_whether_registered_or_not(settings):
    from accounts.services import identity_verify

    settings.SMS_CODE_THROTTLE_FACTOR = 0
    BorrowerFactory(phone="+86" + REGISTERED)
    answers = []
    for phone, id_number, new_phone in (
        (OWN_NUMBERS[0], "110105199003071239", REGISTERED),
        (OWN_NUMBERS[1], "11010519491231002X", NEW),
    ):
        borrower = BorrowerFactory(phone="+86" + phone)
        identity_verify(actor=borrower, real_name="张三", id_number=id_number)
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        details = {
            "phone": phone,
            "password": "borrower-pass-123",
            "real_name": "张三",
            "id_number": id_number,
            "new_phone": new_phone,
        }
        response = client.post("/accounts/phone/lost/", details)
        page = client.get(response["Location"]) if response.status_code == 302 else response
        answers.append((response.status_code, page.status_code, _same_page(page.content.decode())))
    assert answers[0] == answers[1] and answers[0][0] == 302


def test_password_reset_does_the_same_work_for_a_registered_and_a_new_number(settings):
    """Equal work, so equal answer times: the same statements on the same tables, and one
    message queued and handed to the broker after commit either way (only the worker withholds it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import SmsMessage
    from lending.models import OutboxMessage

    settings.SMS_CODE_THROTTLE_FACTOR = 0
    BorrowerFactory(phone="+86" + REGISTERED)

    def statements(phone: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            Client().post("/accounts/password/reset/", {"phone": phone})
        shapes = [re.sub(r"'[^']*'|\bNULL\b|\b\d+\b|\"s\d+_x\d+\"", "?", query["sql"]) for query in queries]
        return [shape for shape in shapes if "django_session" not in shape]

    assert statements(REGISTERED) == statements(NEW)
    assert OutboxMessage.objects.count() == 2
    withheld = SmsMessage.objects.get(status=SmsMessage.Status.WITHHELD)
    assert withheld.to == "" and withheld.to_masked == "138****8000"
