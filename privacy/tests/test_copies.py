"""A copy of my data: asked with password and code, built with progress, downloaded once by its owner."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.actions import Action
from audit.models import AuditEvent
from cards.tests import sandbox_cards
from privacy.models import DataCopy
from support.services import support_case_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(bind, borrower, other_borrower, make_loan):
    bind(borrower)
    make_loan(borrower)
    support_case_open(actor=borrower, category="card", message="mine: card ending 1234")
    bind(other_borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    support_case_open(actor=other_borrower, category="other", message="someone else's question")


def _ask(client, user, privacy_code, deliver):
    code = privacy_code(client, user, "copy")
    with deliver():
        response = client.post("/privacy/copy/", {"code": code})
    copy = DataCopy.objects.get(user=user)
    assert response["Location"] == f"/privacy/copy/{copy.pk}/"
    return copy


def _files(content: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_the_copy_holds_the_borrowers_records_and_nobody_elses(
    records, borrower, other_borrower, sign_in, privacy_code, deliver
):
    client = sign_in(borrower)
    copy = _ask(client, borrower, privacy_code, deliver)
    copy.refresh_from_db()
    assert (copy.status, copy.percent, copy.sections_done) == ("done", 100, copy.sections_total)
    page = client.get(f"/privacy/copy/{copy.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "100%" in page and "Download" in page

    response = client.post(f"/privacy/copy/{copy.pk}/download/")
    assert response["Content-Type"] == "application/zip"
    files = _files(response.content)
    assert {"account.json", "identity.json", "cards.json", "loans.json", "summary.html"} <= set(files)
    cards = json.loads(files["cards.json"])
    assert [card["number"] for card in cards] == ["**** 1234"]
    assert len(json.loads(files["installments.json"])) == 3
    assert json.loads(files["identity.json"])["id_number"].count("*") >= 8
    assert json.loads(files["support_cases.json"])[0]["messages"][0]["text"] == "mine: card ending 1234"
    everything = "".join(files.values())
    for secret in (sandbox_cards.GOOD_DEBIT, "110105199003071239", "13800138000"):
        assert secret not in everything
    for theirs in ("13900139000", "139****9000", "someone else", "李四", "李*"):
        assert theirs not in everything
    actions = list(
        AuditEvent.objects.filter(subject_type="privacy.datacopy").values_list("action", flat=True)
    )
    assert sorted(actions) == sorted(
        [Action.DATA_COPY_REQUESTED, Action.DATA_COPY_BUILT, Action.DATA_COPY_DOWNLOADED]
    )

    again = client.post(f"/privacy/copy/{copy.pk}/download/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "downloaded already" in again.content.decode()


def test_another_borrower_gets_404(records, borrower, other_borrower, sign_in, privacy_code, deliver):
    copy = _ask(sign_in(borrower), borrower, privacy_code, deliver)
    client = sign_in(other_borrower)
    assert client.get(f"/privacy/copy/{copy.pk}/").status_code == 404
    assert client.post(f"/privacy/copy/{copy.pk}/download/").status_code == 404
    copy.refresh_from_db()
    assert copy.status == "done" and copy.downloaded_at is None


def test_an_expired_copy_is_refused_and_deleted(borrower, sign_in, privacy_code, deliver, copy_dir):
    client = sign_in(borrower)
    copy = _ask(client, borrower, privacy_code, deliver)
    copy.refresh_from_db()
    path = copy_dir / copy.archive.name
    assert path.exists()
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        client = sign_in(borrower)
        refused = client.post(f"/privacy/copy/{copy.pk}/download/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
        assert "not available" in refused.content.decode()
        from privacy.services import data_copies_expire

        with deliver():
            assert data_copies_expire() == 1
    copy.refresh_from_db()
    assert copy.status == "expired" and not path.exists()


def test_the_copy_needs_the_password_again_and_the_code(borrower, sign_in, privacy_code, deliver):
    client = sign_in(borrower, reauthenticated=False)
    assert client.get("/privacy/copy/")["Location"].startswith("/accounts/confirm-password/")
    client = sign_in(borrower)
    privacy_code(client, borrower, "copy")
    response = client.post("/privacy/copy/", {"code": "000001"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "code is wrong" in response.content.decode()
    assert not DataCopy.objects.exists()
