"""Idempotency-Key: the same key twice acts once and answers the same; another body is refused."""

import pytest

from accounts.models import SmsCodeSend
from accounts.tests.factories import BorrowerFactory
from api.models import DeviceToken, IdempotentRequest
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_every_post_needs_a_key(api_as, client):
    app = api_as(BorrowerFactory())
    answer = client.post(
        "/api/v1/notifications/read", "{}", content_type="application/json", headers=app.headers()
    )
    assert answer.status_code == 400 and answer.json()["code"] == "idempotency_key_required"
    too_long = app.post("/notifications/read", key="k" * 256)
    assert too_long.status_code == 400


def test_the_same_key_twice_acts_once_and_answers_the_same(api_as, deliver):
    user = BorrowerFactory()
    app = api_as(user)
    with deliver():
        first = app.post("/phone-change", key="same-key")
    events = AuditEvent.objects.count()
    second = app.post("/phone-change", key="same-key")
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert second["Idempotent-Replayed"] == "true"
    assert SmsCodeSend.objects.count() == 1 and AuditEvent.objects.count() == events


def test_a_refusal_is_the_first_answer_too(api_as):
    app = api_as(BorrowerFactory())
    first = app.post("/auth/reauth", {"password": "wrong-one"}, key="k1")
    events = AuditEvent.objects.count()
    second = app.post("/auth/reauth", {"password": "wrong-one"}, key="k1")
    assert first.status_code == second.status_code == 422 and first.content == second.content
    assert AuditEvent.objects.count() == events  # the wrong password is not counted twice


def test_another_request_with_the_same_key_is_refused(api_as):
    app = api_as(BorrowerFactory())
    app.post("/auth/reauth", {"password": "wrong-one"}, key="k1")
    other = app.post("/auth/reauth", {"password": "wrong-two"}, key="k1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    other_path = app.post("/notifications/read", key="k1")
    assert other_path.json()["code"] == "idempotency_key_reused"


def test_keys_belong_to_their_borrower(api_as):
    mine, theirs = api_as(BorrowerFactory()), api_as(BorrowerFactory(), "x", "X")
    assert mine.post("/notifications/read", key="shared").status_code == 200
    answer = theirs.post("/notifications/read", key="shared")
    assert answer.status_code == 200 and not answer.has_header("Idempotent-Replayed")


def test_a_secret_is_never_stored_nor_replayed(api, deliver, last_code):
    user = BorrowerFactory()
    body = {"phone": str(user.phone), "password": "borrower-pass-123", "device_id": "d", "device_name": "D"}
    with deliver():
        started = api.post("/auth/sign-in", body, key="sign-in-1")
    ticket = started.json()["ticket"]
    verify = {"ticket": ticket, "code": last_code(user.phone)}
    issued = api.post("/auth/sign-in/verify", verify, key="verify-1")
    assert issued.status_code == 201
    stored = [row for row in IdempotentRequest.objects.all() if row.status]
    assert stored and all(issued.json()["token"] not in row.body_encrypted for row in stored)
    retried = api.post("/auth/sign-in/verify", verify, key="verify-1")
    assert retried.status_code == 409 and retried.json()["code"] == "idempotency_secret_shown_once"
    assert DeviceToken.objects.count() == 1


def test_a_server_error_is_not_kept(api_as, monkeypatch, client):
    app = api_as(BorrowerFactory())

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.routes.account.notifications_mark_read", broken)
    client.raise_request_exception = False
    failed = app.post("/notifications/read", key="retry-me")
    assert failed.status_code == 500 and failed.json()["code"] == "error"
    monkeypatch.undo()
    assert app.post("/notifications/read", key="retry-me").status_code == 200


def test_old_records_are_purged(api_as, time_machine, settings):
    from datetime import timedelta

    from django.utils import timezone

    from api.tasks import purge_api_records

    user = BorrowerFactory()
    app = api_as(user)
    app.post("/notifications/read", key="old")
    time_machine.move_to(timezone.now() + timedelta(hours=settings.API_IDEMPOTENCY_HOURS + 1))
    assert purge_api_records() >= 1
    assert not IdempotentRequest.objects.exists()
    assert DeviceToken.objects.exists()  # ended, but not long ago enough to forget
    time_machine.move_to(timezone.now() + timedelta(days=settings.API_TOKEN_MAX_DAYS + 2))
    purge_api_records()
    assert not DeviceToken.objects.exists()
