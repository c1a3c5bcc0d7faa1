"""A borrower locked out, or with the phone lost, opens a request without signing in."""

import pytest

from accounts.tests.factories import BorrowerFactory
from support.models import SupportCase

pytestmark = pytest.mark.django_db

ACCOUNT = "+8613800138000"
NEW_PHONE = "+8613700137000"


def _ask(client, deliver, account_phone, contact_phone):
    with deliver():
        response = client.post(
            "/support/signed-out/",
            {
                "account_phone": account_phone,
                "contact_phone": contact_phone,
                "category": "phone",
                "message": "I lost my phone and cannot sign in.",
                "is_complaint": "",
            },
        )
    assert response["Location"] == "/support/signed-out/"


def test_a_locked_out_borrower_opens_a_request_with_a_code_to_a_new_number(
    client, deliver, last_code, sms_outbox
):
    borrower = BorrowerFactory(phone=ACCOUNT)
    _ask(client, deliver, "138 0013 8000", NEW_PHONE)
    assert client.get("/support/signed-out/").templates[0].name == "support/signed_out_code.html"
    page = client.post("/support/signed-out/code/", {"code": last_code(NEW_PHONE)}, HTTP_ACCEPT_LANGUAGE="en")
    case = SupportCase.objects.get()
    assert (case.borrower, case.signed_out, case.contact_phone, case.contact_phone_masked) == (
        borrower,
        True,
        NEW_PHONE,
        "137****7000",
    )
    assert "137****7000" in page.content.decode()


def test_a_number_without_an_account_gets_the_same_answer(client, deliver, last_code):
    _ask(client, deliver, "13600136000", NEW_PHONE)
    page = client.post("/support/signed-out/code/", {"code": last_code(NEW_PHONE)}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "is received" in page.content.decode()
    assert SupportCase.objects.get().borrower is None


def test_a_wrong_code_opens_nothing(client, deliver, last_code):
    _ask(client, deliver, ACCOUNT, NEW_PHONE)
    code = last_code(NEW_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    page = client.post("/support/signed-out/code/", {"code": wrong}, HTTP_ACCEPT_LANGUAGE="en")
    assert "code is wrong" in page.content.decode()
    assert not SupportCase.objects.exists()


def test_the_reply_reaches_a_signed_out_borrower_by_text(client, deliver, last_code, sms_outbox):
    from accounts.tests.factories import StaffFactory
    from support.services import support_case_reply

    BorrowerFactory(phone=ACCOUNT)
    _ask(client, deliver, ACCOUNT, NEW_PHONE)
    client.post("/support/signed-out/code/", {"code": last_code(NEW_PHONE)})
    case = SupportCase.objects.get()
    with deliver():
        support_case_reply(
            actor=StaffFactory(role="support"), case=case, text="Visit a branch with your ID card."
        )
    assert any(sms.to == NEW_PHONE and "Visit a branch" in sms.body for sms in sms_outbox)


def test_a_flood_of_signed_out_requests_is_refused_and_recorded(client, deliver, last_code, settings):
    from audit.actions import Action
    from audit.models import AuditEvent

    settings.SUPPORT_REQUESTS_PER_DAY = 0
    BorrowerFactory(phone=ACCOUNT)
    _ask(client, deliver, ACCOUNT, NEW_PHONE)
    page = client.post("/support/signed-out/code/", {"code": last_code(NEW_PHONE)}, HTTP_ACCEPT_LANGUAGE="en")
    assert "many help requests" in page.content.decode()
    assert not SupportCase.objects.exists()
    assert AuditEvent.objects.filter(action=Action.SUPPORT_CASE_REFUSED).count() == 1
