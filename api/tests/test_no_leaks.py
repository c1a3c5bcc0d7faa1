"""A leak scan of every API answer: no full card, ID or phone number, whatever the flow."""

import re

import pytest

from accounts.models import User
from accounts.policies import current_policy
from api.api import api as app_api
from cards.tests import sandbox_cards
from cards.tests.conftest import allow_next_code

pytestmark = pytest.mark.django_db

PHONE, ID_NUMBER, CARD = "+8613800138000", "110105199003071239", sandbox_cards.GOOD_DEBIT
FULL_NUMBERS = (
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),  # a mainland mobile
    re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),  # a resident ID number
    re.compile(r"(?<!\d)\d{13,19}(?!\d)"),  # a card number
)


def scan(response) -> list[str]:
    text = response.content.decode()
    found = [secret for secret in (PHONE[3:], ID_NUMBER, CARD, CARD[-8:]) if secret in text]
    found += [match.group(0) for pattern in FULL_NUMBERS for match in pattern.finditer(text)]
    return found


def test_no_answer_carries_a_full_number(api, deliver, last_code, bank, make_loan):
    with deliver():
        api.post("/auth/register", {"phone": PHONE[3:]})
    policy = current_policy("privacy", "en")
    opened = api.post(
        "/auth/register/complete",
        {
            "phone": PHONE[3:],
            "code": last_code(PHONE),
            "password": "a-long-new-passw0rd",
            "password_again": "a-long-new-passw0rd",
            "privacy_version": policy.version,
            "privacy_sha256": policy.sha256,
            "accept_privacy": True,
            "device_id": "d1",
            "device_name": "Phone",
        },
    )
    api.token = opened.json()["token"]
    api.post("/identity", {"real_name": "张三", "id_number": ID_NUMBER})
    api.post("/identity", {"real_name": "张三", "id_number": ID_NUMBER})  # a refusal, too
    with deliver():
        started = api.post("/cards/bind", {"card_number": CARD, "reserved_phone": PHONE[3:]}).json()
    agreement = started["agreement"]
    card = api.post(
        f"/cards/bind/{started['id']}/confirm",
        {
            "code": bank.latest_code(),
            "agreement_version": agreement["version"],
            "agreement_sha256": agreement["sha256"],
            "accept_agreement": True,
        },
    ).json()
    with deliver():
        api.post("/cards/bind", {"card_number": CARD, "reserved_phone": PHONE[3:]})  # bound already
    loan = make_loan(User.objects.get(phone=PHONE))
    for path in (
        "/me",
        "/identity",
        "/cards",
        "/loans",
        f"/loans/{loan.pk}",
        f"/loans/{loan.pk}/installments",
        f"/loans/{loan.pk}/attempts",
        "/security/events",
        "/notifications",
        "/devices",
    ):
        api.get(path)
    with deliver():
        api.post(f"/cards/{card['id']}/code", {"purpose": "card_unbind"})
    allow_next_code()
    with deliver():
        change = api.post("/phone-change").json()
    api.post(f"/phone-change/{change['id']}/old", {"code": last_code(PHONE)})
    allow_next_code()
    with deliver():
        api.post(f"/phone-change/{change['id']}/new", {"new_phone": "13900139000"})
    api.get("/phone-change")
    assert len(api.responses) >= 20
    leaks = {response.request["PATH_INFO"]: scan(response) for response in api.responses if scan(response)}
    assert not leaks, leaks


def test_the_document_itself_carries_no_number(client, settings):
    settings.API_DOCS_ENABLED = True
    found = scan(client.get("/api/v1/openapi.json"))
    assert not [number for number in found if number != "9" * 18]  # the largest object id
    assert app_api.get_openapi_schema()["info"]["version"] == "1"
