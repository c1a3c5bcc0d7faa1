"""The privacy centre lists every consent; the withdrawable ones are withdrawn there, recorded."""

import pytest

from accounts.policies import current_policy
from accounts.services import consent_record
from audit.actions import Action
from audit.models import AuditEvent
from privacy.models import ConsentWithdrawal
from privacy.retention import RETENTION

pytestmark = pytest.mark.django_db


def test_the_centre_shows_what_is_held_why_how_long_and_who_receives_it(borrower, sign_in):
    page = sign_in(borrower).get("/privacy/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for kind in RETENTION:
        assert str(kind.purpose).replace("'", "&#x27;") in page
    assert "Tencent Cloud FaceID" in page and "The SMS provider" in page
    zh = sign_in(borrower).get("/privacy/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "隐私中心" in zh


def test_withdrawing_the_biometrics_consent_is_recorded(borrower, sign_in):
    consent = consent_record(actor=borrower, policy=current_policy("biometrics"))
    client = sign_in(borrower)
    page = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No face check runs on this consent any more" in page  # the consequence, said first
    response = client.post(f"/privacy/consents/{consent.pk}/withdraw/", REMOTE_ADDR="203.0.113.9")
    assert response["Location"] == "/privacy/"
    withdrawal = ConsentWithdrawal.objects.get(consent=consent)
    assert withdrawal.ip == "203.0.113.9"
    event = AuditEvent.objects.get(action=Action.CONSENT_WITHDRAWN)
    assert (event.subject_id, event.data) == (
        str(consent.pk),
        {"document": "biometrics", "version": "2026-11"},
    )
    centre = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Processing of facial information · 2026-11" in centre and "Withdrawn" in centre
    client.post(f"/privacy/consents/{consent.pk}/withdraw/")
    assert ConsentWithdrawal.objects.count() == 1


def test_marketing_contact_is_given_and_withdrawn_from_the_centre(borrower, sign_in):
    client = sign_in(borrower)

    def offered() -> bool:
        return 'action="/privacy/marketing/"' in client.get("/privacy/").content.decode()

    assert offered()
    client.post("/privacy/marketing/")
    consent = borrower.consents.get(document="marketing")
    assert not offered()
    client.post(f"/privacy/consents/{consent.pk}/withdraw/")
    assert ConsentWithdrawal.objects.filter(consent=consent).exists()
    assert offered()


def test_the_privacy_policy_is_not_withdrawn_here_but_by_closing(borrower, sign_in):
    consent = consent_record(actor=borrower, policy=current_policy("privacy"))
    client = sign_in(borrower)
    response = client.post(
        f"/privacy/consents/{consent.pk}/withdraw/", follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "ends when you close your account" in response.content.decode()
    assert not ConsentWithdrawal.objects.exists()


def test_the_text_agreed_to_is_shown_and_others_consents_are_404(borrower, other_borrower, sign_in):
    consent = consent_record(actor=borrower, policy=current_policy("biometrics", "en"))
    page = sign_in(borrower).get(f"/privacy/consents/{consent.pk}/").content.decode()
    assert "Consent to process facial information" in page
    client = sign_in(other_borrower)
    assert client.get(f"/privacy/consents/{consent.pk}/").status_code == 404
    assert client.post(f"/privacy/consents/{consent.pk}/withdraw/").status_code == 404
    assert not ConsentWithdrawal.objects.exists()
