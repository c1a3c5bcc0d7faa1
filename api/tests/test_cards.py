"""Cards over the API: the pages' rules, the bank's own code, masked answers."""

import pytest

from accounts.models import SmsCode
from accounts.policies import current_policy
from accounts.services import account_freeze
from cards.models import Card, Mandate
from cards.tests import sandbox_cards
from cards.tests.conftest import allow_next_code

pytestmark = pytest.mark.django_db
Purpose = SmsCode.Purpose


def bind_through_api(app, bank, deliver, number=sandbox_cards.GOOD_DEBIT):
    with deliver():
        started = app.post("/cards/bind", {"card_number": number, "reserved_phone": "13800138000"})
    assert started.status_code == 201, started.json()
    body = started.json()
    agreement = body["agreement"]
    confirm = {"code": bank.latest_code()}
    if agreement:
        confirm |= {
            "agreement_version": agreement["version"],
            "agreement_sha256": agreement["sha256"],
            "accept_agreement": True,
        }
    return body, app.post(f"/cards/bind/{body['id']}/confirm", confirm)


def test_bind_with_the_banks_code(api_as, borrower, bank, deliver):
    app = api_as(borrower)
    started, confirmed = bind_through_api(app, bank, deliver)
    assert started["masked_number"] == "**** 1234" and started["reserved_phone"] == "138****8000"
    assert started["agreement"]["document"] == "debit_authorisation"
    assert confirmed.status_code == 201, confirmed.json()
    card = confirmed.json()
    assert card["is_repayment"] and card["debit_authorisation_active"] and card["status"] == "active"
    assert Mandate.objects.filter(card_id=card["id"], status="active").exists()
    listed = app.get("/cards").json()
    assert [item["id"] for item in listed["items"]] == [card["id"]]
    assert listed["can_unbind_all"] is True


def test_bind_refusals(api_as, borrower, bank, deliver):
    app = api_as(borrower)
    with deliver():
        refused = app.post(
            "/cards/bind", {"card_number": sandbox_cards.FOUR_ELEMENTS_FAIL, "reserved_phone": "13800138000"}
        )
    assert refused.status_code == 422 and refused.json()["code"] == "four_elements"
    invalid = app.post("/cards/bind", {"card_number": "1234", "reserved_phone": "13800138000"})
    assert invalid.status_code == 422 and "card_number" in invalid.json()["errors"]
    with deliver():
        started = app.post(
            "/cards/bind", {"card_number": sandbox_cards.GOOD_DEBIT, "reserved_phone": "13800138000"}
        ).json()
    unaccepted = app.post(f"/cards/bind/{started['id']}/confirm", {"code": bank.latest_code()})
    assert unaccepted.status_code == 422 and "accept_agreement" in unaccepted.json()["errors"]
    assert not Card.objects.exists()


def test_a_credit_card_binds_with_the_code_alone(api_as, borrower, bank, deliver):
    started, confirmed = bind_through_api(api_as(borrower), bank, deliver, sandbox_cards.GOOD_CREDIT)
    assert started["agreement"] is None
    assert confirmed.status_code == 201 and confirmed.json()["can_repay_loans"] is False


def test_repayment_card_unbind_and_swap(api_as, borrower, bind, make_loan, deliver, last_code):
    first = bind(borrower)
    second = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    app = api_as(borrower)
    with deliver():
        sent = app.post(f"/cards/{second.pk}/code", {"purpose": "card_repayment"})
    assert sent.status_code == 200 and sent.json()["phone"] == borrower.masked_phone
    made = app.post(f"/cards/{second.pk}/repayment", {"code": last_code(borrower.phone)})
    assert made.status_code == 200 and made.json()["is_repayment"] is True
    make_loan(borrower)
    allow_next_code()
    with deliver():
        app.post(f"/cards/{second.pk}/code", {"purpose": "card_unbind"})
    in_use = app.post(f"/cards/{second.pk}/unbind", {"code": last_code(borrower.phone)})
    assert in_use.status_code == 422 and in_use.json()["code"] == "repayment_card_in_use"
    allow_next_code()
    with deliver():
        app.post(f"/cards/{second.pk}/code", {"purpose": "card_swap", "new_card": first.pk})
    swapped = app.post(f"/cards/{second.pk}/swap", {"new_card": first.pk, "code": last_code(borrower.phone)})
    assert swapped.status_code == 200, swapped.json()
    assert swapped.json()["status"] in ("unbound", "pending_review")
    first.refresh_from_db()
    assert first.is_repayment


def test_card_code_refusals(api_as, borrower, bind, bank, deliver):
    card = bind(borrower)
    app = api_as(borrower)
    already = app.post(f"/cards/{card.pk}/code", {"purpose": "card_repayment"})
    assert already.status_code == 422 and already.json()["code"] == "already_repayment"
    unknown = app.post(f"/cards/{card.pk}/code", {"purpose": "login"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid"
    with deliver():
        assert app.post(f"/cards/{card.pk}/code", {"purpose": "card_unbind"}).status_code == 200
    too_soon = app.post(f"/cards/{card.pk}/code", {"purpose": "card_unbind"})
    assert too_soon.status_code == 429 and too_soon.json()["code"] == "code_send_refused"
    assert 1 <= int(too_soon["Retry-After"]) <= 60


def test_unbind_and_unbind_all(api_as, borrower, bind, deliver, last_code):
    card = bind(borrower)
    other = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    app = api_as(borrower)
    with deliver():
        app.post(f"/cards/{other.pk}/code", {"purpose": "card_unbind"})
    unbound = app.post(f"/cards/{other.pk}/unbind", {"code": last_code(borrower.phone)})
    assert unbound.status_code == 200 and unbound.json()["status"] == "unbound"
    allow_next_code()
    with deliver():
        assert app.post("/cards/unbind-all/code").status_code == 200
    all_gone = app.post("/cards/unbind-all", {"code": last_code(borrower.phone)})
    assert all_gone.status_code == 200, all_gone.json()
    assert [item["id"] for item in all_gone.json()["unbound"]] == [card.pk]
    assert app.get("/cards").json()["items"] == []


def test_a_frozen_account_is_refused_before_anything(api_as, borrower, bind):
    card = bind(borrower)
    account_freeze(actor=None, user=borrower, reason="alert")
    borrower.refresh_from_db()
    app = api_as(borrower, "after", "After the freeze")
    for path, body in (
        ("/cards/bind", {"card_number": sandbox_cards.OTHER_GOOD_DEBIT, "reserved_phone": "13800138000"}),
        (f"/cards/{card.pk}/code", {"purpose": "card_unbind"}),
        (f"/cards/{card.pk}/unbind", {"code": "123456"}),
        ("/phone-change", {}),
        ("/identity", {"real_name": "张三", "id_number": "110105199003071239"}),
    ):
        refused = app.post(path, body)
        assert refused.status_code == 403 and refused.json()["code"] == "account_frozen", path
    assert app.get("/cards").status_code == 200


def test_answers_in_the_requested_language(api_as, borrower):
    app = api_as(borrower)
    app.language = "zh-Hans"
    refused = app.post("/cards/unbind-all", {"code": "12"})
    assert refused.json()["code"] == "invalid"
    assert "短信" in refused.json()["detail"] or "验证码" in refused.json()["detail"]
    policy = app.get("/policies/debit_authorisation").json()
    assert policy["language"] == "zh-hans"
    assert policy["sha256"] == current_policy("debit_authorisation", "zh-hans").sha256
