from urllib.parse import urlsplit

import httpx
import pytest

from accounts.models import FaceCheck, PhoneChange
from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import ReviewCase
from audit.services import review_case_decide

pytestmark = pytest.mark.django_db

OLD, NEW, ID_NUMBER = "+8613800138000", "+8613900139000", "110105199003071239"
DETAILS = {
    "phone": OLD,
    "password": "borrower-pass-123",
    "real_name": "张三",
    "id_number": ID_NUMBER,
    "new_phone": NEW,
}


@pytest.fixture
def borrower():
    borrower = BorrowerFactory(phone=OLD)
    identity_verify(actor=borrower, real_name="张三", id_number=ID_NUMBER)
    return borrower


def through_the_face_check(client, faceid, *, source="camera"):
    """Consent, the provider's page (as the borrower's browser would use it) and back."""
    page = client.get("/accounts/phone/lost/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Consent to process facial information" in page and "Tencent Cloud FaceID" in page
    response = client.post("/accounts/phone/lost/face/start/", {"consent": "on"})
    assert response["Location"] == "/accounts/phone/lost/face/go/"
    check = FaceCheck.objects.latest("id")
    assert check.liveness_url in client.get("/accounts/phone/lost/face/go/").content.decode()
    at_provider = httpx.post(
        f"{faceid.url}/h5/liveness/done", data={"token": check.biz_token, "source": source}, trust_env=False
    )
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/accounts/phone/lost/face/"
    return client.get(f"{back.path}?{back.query}", HTTP_ACCEPT_LANGUAGE="en")


def test_the_lost_phone_pages_from_request_to_approval(client, deliver, last_code, borrower, sign_in, faceid):
    assert client.get("/accounts/phone/lost/").status_code == 200  # no sign-in needed
    with deliver():
        assert client.post("/accounts/phone/lost/", DETAILS)["Location"] == "/accounts/phone/lost/"
    page = client.get("/accounts/phone/lost/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "139****9000" in page and "13900139000" not in page
    assert "Lost number" in page and "Current number" not in page  # the lost phone is not "current"
    with deliver():
        response = client.post("/accounts/phone/lost/code/", {"code": last_code(NEW)})
    assert response["Location"] == "/accounts/phone/lost/"
    assert not ReviewCase.objects.exists()
    with deliver():
        assert through_the_face_check(client, faceid)["Location"] == "/accounts/phone/lost/"
    case = ReviewCase.objects.get()
    page = client.get("/accounts/phone/lost/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Waiting for a compliance officer" in page and f"#{case.pk}" in page

    review_case_decide(
        actor=StaffFactory(role="officer"), case_id=case.pk, verdict="reject", reason="photo unclear"
    )
    page = client.get("/accounts/phone/lost/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Rejected" in page and "photo unclear" in page
    signed_in = sign_in(borrower)
    page = signed_in.get("/accounts/phone/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "was not approved" in page and "photo unclear" in page


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("id_number", "110105201001014564", "18 years"),
        ("new_phone", "+14155550123", "Only mainland China"),
        ("real_name", "x" * 5000, "at most"),
        ("password", "wrong", "do not match"),
    ],
)
def test_bad_details_are_refused_on_the_form(client, sms_outbox, borrower, field, value, message):
    response = client.post("/accounts/phone/lost/", {**DETAILS, field: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and message in response.content.decode()
    assert sms_outbox == [] and not PhoneChange.objects.exists()


def test_a_wrong_code_is_shown(client, deliver, borrower):
    with deliver():
        client.post("/accounts/phone/lost/", DETAILS)
    response = client.post("/accounts/phone/lost/code/", {"code": "abc"})
    assert response.status_code == 400 and not ReviewCase.objects.exists()


def test_withdraw(client, deliver, last_code, borrower, faceid):
    with deliver():
        client.post("/accounts/phone/lost/", DETAILS)
    with deliver():
        client.post("/accounts/phone/lost/code/", {"code": last_code(NEW)})
        through_the_face_check(client, faceid)
    client.post("/accounts/phone/lost/withdraw/")
    assert ReviewCase.objects.get().status == "cancelled"
    assert client.get("/accounts/phone/lost/").context["form"] is not None  # can start again


def test_another_browser_sees_nothing_of_the_request(client, deliver, borrower):
    from django.test import Client

    with deliver():
        client.post("/accounts/phone/lost/", DETAILS)
    stranger = Client().get("/accounts/phone/lost/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "139****9000" not in stranger
    assert (
        Client().post("/accounts/phone/lost/code/", {"code": "123456"})["Location"] == "/accounts/phone/lost/"
    )


def test_the_face_check_needs_the_consent_ticked(client, deliver, last_code, borrower, faceid):
    with deliver():
        client.post("/accounts/phone/lost/", DETAILS)
    client.post("/accounts/phone/lost/code/", {"code": last_code(NEW)})
    response = client.post("/accounts/phone/lost/face/start/", {}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not faceid.calls() and not FaceCheck.objects.exists()


def test_a_face_that_does_not_match_keeps_the_request_out_of_review(client, deliver, last_code, faceid):
    from accounts.tests import identity_numbers as ids

    borrower = BorrowerFactory(phone=OLD)
    identity_verify(actor=borrower, real_name="张三", id_number=ids.FACE_FAILS)
    with deliver():
        client.post("/accounts/phone/lost/", {**DETAILS, "id_number": ids.FACE_FAILS})
    client.post("/accounts/phone/lost/code/", {"code": last_code(NEW)})
    through_the_face_check(client, faceid, source="upload")
    page = client.get("/accounts/phone/lost/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "did not match the photo on your ID card" in page and "Waiting for the face check" in page
    assert not ReviewCase.objects.exists()


def test_coming_back_without_a_request_or_token_goes_to_the_start(client, faceid):
    assert client.get("/accounts/phone/lost/face/?token=X")["Location"] == "/accounts/phone/lost/"
    assert client.get("/accounts/phone/lost/face/go/")["Location"] == "/accounts/phone/lost/"
    assert (
        client.post("/accounts/phone/lost/face/start/", {"consent": "on"})["Location"]
        == "/accounts/phone/lost/"
    )
