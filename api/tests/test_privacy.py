"""The privacy centre over the API: consents, a copy of one's data, closing the account (and
signing in again cancels it)."""

import io
import zipfile

import pytest

from accounts.policies import current_policy
from accounts.services import consent_record
from accounts.tests.factories import BorrowerFactory
from api.tests.test_auth import sign_in
from cards.tests.conftest import allow_next_code
from privacy.models import AccountClosure, DataCopy
from privacy.tests.conftest import copy_dir  # noqa: F401
from support.services import support_case_open

pytestmark = pytest.mark.django_db
PASSWORD = "borrower-pass-123"


def code_for(app, path, deliver, last_code, user) -> str:
    allow_next_code()
    with deliver():
        sent = app.post(path)
    assert sent.status_code == 200, sent.json()
    return last_code(user.phone)


def test_consents_list_read_and_withdraw(api_as):
    user = BorrowerFactory()
    biometrics = consent_record(actor=user, policy=current_policy("biometrics"))
    privacy = consent_record(actor=user, policy=current_policy("privacy"))
    app = api_as(user)
    items = {item["id"]: item for item in app.get("/privacy/consents").json()["items"]}
    assert items[biometrics.pk]["withdrawable"] and not items[privacy.pk]["withdrawable"]
    read = app.get(f"/privacy/consents/{biometrics.pk}").json()
    assert read["text"] and read["version"] == biometrics.version
    done = app.post(f"/privacy/consents/{biometrics.pk}/withdraw")
    assert done.status_code == 200 and done.json()["active"] is False and done.json()["withdrawn_at"]
    again = app.post(f"/privacy/consents/{biometrics.pk}/withdraw")
    assert again.status_code == 422 and again.json()["code"] == "already"
    kept = app.post(f"/privacy/consents/{privacy.pk}/withdraw")
    assert kept.status_code == 422 and kept.json()["code"] == "not_withdrawable"
    assert "close your account" in kept.json()["detail"]
    marketing = app.post("/privacy/consents/marketing")
    assert marketing.status_code == 201 and marketing.json()["withdrawable"] is True
    twice = app.post("/privacy/consents/marketing")
    assert twice.status_code == 422 and twice.json()["code"] == "already"


def test_data_copy_asked_followed_and_downloaded_once(api_as, deliver, last_code):
    user = BorrowerFactory()
    app = api_as(user)
    code = code_for(app, "/privacy/copies/code", deliver, last_code, user)
    wrong = app.post("/privacy/copies", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "code_refused"
    with deliver():
        asked = app.post("/privacy/copies", {"code": code})
    assert asked.status_code == 201, asked.json()
    copy_id = asked.json()["id"]
    status = app.get(f"/privacy/copies/{copy_id}").json()
    assert status["status"] == DataCopy.Status.DONE and status["downloadable"] and status["percent"] == 100
    assert [item["id"] for item in app.get("/privacy/copies").json()["items"]] == [copy_id]
    download = app.post(f"/privacy/copies/{copy_id}/download", key="download-1")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    content = b"".join(download.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist()
    retried = app.post(f"/privacy/copies/{copy_id}/download", key="download-1")  # not replayed
    assert retried.status_code == 422 and retried.json()["code"] == "downloaded"


def test_data_copy_needs_the_password_typed_again(api_as):
    user = BorrowerFactory()
    app = api_as(user)
    user.device_tokens.update(reauth_at=None)
    refused = app.post("/privacy/copies/code")
    assert refused.status_code == 403 and refused.json()["code"] == "reauth_required"
    assert app.post("/privacy/closure/code").json()["code"] == "reauth_required"


def test_closure_refused_while_a_request_is_open(api_as, deliver, last_code):
    user = BorrowerFactory()
    support_case_open(actor=user, category="card", message="help")
    app = api_as(user)
    status = app.get("/privacy/closure").json()
    assert len(status["blockers"]) == 1 and status["pending"] is None
    code = code_for(app, "/privacy/closure/code", deliver, last_code, user)
    body = {"password": PASSWORD, "code": code, "understood": True}
    refused = app.post("/privacy/closure", body)
    assert refused.status_code == 422 and refused.json()["code"] == "blocked"
    unticked = app.post("/privacy/closure", {**body, "understood": False})
    assert unticked.status_code == 422 and "understood" in unticked.json()["errors"]
    assert not AccountClosure.objects.exists()


def test_closure_signs_out_and_signing_in_again_cancels_it(api_as, api, deliver, last_code):
    user = BorrowerFactory()
    app = api_as(user)
    code = code_for(app, "/privacy/closure/code", deliver, last_code, user)
    with deliver():
        closing = app.post("/privacy/closure", {"password": PASSWORD, "code": code, "understood": True})
    assert closing.status_code == 201, closing.json()
    assert closing.json()["status"] == AccountClosure.Status.COOLING_OFF
    assert app.get("/me").status_code == 401  # every token ends, this one too
    allow_next_code()
    ticket, code = sign_in(api, deliver, last_code, user)
    answer = api.post("/auth/sign-in/verify", {"ticket": ticket, "code": code})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["closure_cancelled"] is True
    assert AccountClosure.objects.get().status == AccountClosure.Status.CANCELLED
    api.token = answer.json()["token"]
    assert api.get("/privacy/closure").json()["pending"] is None
