"""The lost-phone path from an app: the ticket, the code, the hosted face check, the review."""

from urllib.parse import parse_qs, urlsplit

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
    user = BorrowerFactory(phone=OLD)
    identity_verify(actor=user, real_name="张三", id_number=ID_NUMBER)
    return user


def test_from_request_to_review_through_the_hosted_face_check(api, deliver, last_code, borrower, faceid):
    with deliver():
        started = api.post("/phone-lost", DETAILS)
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["new_phone"] == "139****9000" and body["next_step"] == "confirm_new"
    ticket = {"Lost-Phone-Ticket": body["ticket"]}
    assert api.get("/phone-lost").status_code == 422  # no ticket, nothing to see
    with deliver():
        confirmed = api.post("/phone-lost/code", {"code": last_code(NEW)}, headers=ticket)
    assert confirmed.json()["next_step"] == "face_check"
    refused = api.post("/phone-lost/face", {"consent": False}, headers=ticket)
    assert refused.status_code == 422 and refused.json()["code"] == "consent_required"
    hand_off = api.post("/phone-lost/face", {"consent": True}, headers=ticket)
    assert hand_off.status_code == 200
    check = FaceCheck.objects.get()
    assert hand_off.json()["liveness_url"] == check.liveness_url
    at_provider = httpx.post(
        f"{faceid.url}/h5/liveness/done", data={"token": check.biz_token, "source": "camera"}, trust_env=False
    )
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/api/v1/phone-lost/face/return"
    returned = api.get(f"/phone-lost/face/return?{back.query}")
    token = returned.json()["token"]
    assert token == parse_qs(back.query)["token"][0]
    with deliver():
        finished = api.post("/phone-lost/face/finish", {"token": token}, headers=ticket)
    assert finished.status_code == 200, finished.json()
    case = ReviewCase.objects.get()
    assert finished.json()["case"] == case.pk and finished.json()["status"] == PhoneChange.Status.IN_REVIEW
    review_case_decide(
        actor=StaffFactory(role="officer"), case_id=case.pk, verdict="reject", reason="photo unclear"
    )
    status = api.get("/phone-lost", headers=ticket).json()
    assert status["status"] == "rejected" and status["decision_reason"] == "photo unclear"


def test_wrong_details_and_a_foreign_face_token_are_refused(api, deliver, last_code, borrower, faceid):
    wrong = api.post("/phone-lost", {**DETAILS, "password": "wrong-pass-1"})
    assert wrong.status_code == 422
    with deliver():
        ticket = {"Lost-Phone-Ticket": api.post("/phone-lost", DETAILS).json()["ticket"]}
    bad_code = api.post("/phone-lost/code", {"code": "000000"}, headers=ticket)
    assert bad_code.status_code == 422 and bad_code.json()["code"] == "code_refused"
    foreign = api.post("/phone-lost/face/finish", {"token": "not-ours"}, headers=ticket)
    assert foreign.status_code == 422
    unknown = api.get("/phone-lost", headers={"Lost-Phone-Ticket": "lp_forged"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "expired"
    with deliver():
        api.post("/phone-lost/code", {"code": last_code(NEW)}, headers=ticket)
    assert api.post("/phone-lost/withdraw", headers=ticket).status_code == 200
    assert api.get("/phone-lost", headers=ticket).json()["status"] == "cancelled"


def test_an_approved_lost_phone_request_ends_every_token(api, api_as, deliver, last_code, borrower, faceid):
    app = api_as(borrower)
    with deliver():
        ticket = {"Lost-Phone-Ticket": api.post("/phone-lost", DETAILS).json()["ticket"]}
    with deliver():
        api.post("/phone-lost/code", {"code": last_code(NEW)}, headers=ticket)
    api.post("/phone-lost/face", {"consent": True}, headers=ticket)
    faceid.finish(FaceCheck.objects.get().biz_token)
    with deliver():
        api.post("/phone-lost/face/finish", {"token": FaceCheck.objects.get().biz_token}, headers=ticket)
    case = ReviewCase.objects.get()
    with deliver():
        review_case_decide(
            actor=StaffFactory(role="officer"), case_id=case.pk, verdict="approve", reason="ok"
        )
    case.refresh_from_db()
    if case.status == "open":  # a high-risk case needs a second officer
        with deliver():
            review_case_decide(
                actor=StaffFactory(role="officer"), case_id=case.pk, verdict="approve", reason="ok"
            )
    assert api.get("/phone-lost", headers=ticket).json()["status"] == PhoneChange.Status.COMPLETED
    assert app.get("/me").status_code == 401
