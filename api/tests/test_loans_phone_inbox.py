"""Loans, phone change (path a), notifications and the security log over the API."""

import pytest

from accounts.models import PhoneChange
from accounts.services import notification_create
from accounts.tests.factories import BorrowerFactory
from cards.tests.conftest import allow_next_code

pytestmark = pytest.mark.django_db
NEW = "+8613900139000"


def test_loans_installments_and_attempts(api_as, borrower, bind, make_loan):
    bind(borrower)
    loan = make_loan(borrower)
    app = api_as(borrower)
    listed = app.get("/loans").json()
    assert [item["id"] for item in listed["items"]] == [loan.pk] and listed["next_cursor"] is None
    detail = app.get(f"/loans/{loan.pk}").json()
    assert detail["principal"] == "3000.00" and len(detail["installments"]) == 3
    assert app.get(f"/loans/{loan.pk}/installments").json()["items"] == detail["installments"]
    assert app.get(f"/loans/{loan.pk}/attempts").json() == {"items": []}
    assert app.get("/loans/999999").status_code == 404
    assert app.get("/loans/99999999999999999999999").status_code == 404  # past any id: no 500


def test_cursor_pages(api_as):
    user = BorrowerFactory()
    for _ in range(5):
        notification_create(user=user, kind="password_changed")
    app = api_as(user)
    first = app.get("/notifications", {"limit": 2}).json()
    second = app.get("/notifications", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = app.get("/notifications", {"limit": 2, "cursor": second["next_cursor"]}).json()
    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert len(ids) == 5 == len(set(ids)) and ids == sorted(ids, reverse=True)
    assert third["next_cursor"] is None
    bad = app.get("/notifications", {"cursor": "forged"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"
    assert app.get("/me").json()["unread_notifications"] == 5
    assert app.post("/notifications/read").status_code == 200
    assert app.get("/me").json()["unread_notifications"] == 0
    assert all(item["read"] for item in app.get("/notifications").json()["items"])


def test_security_log_and_this_wasnt_me(api_as):
    user = BorrowerFactory()
    app = api_as(user)
    events = app.get("/security/events").json()["items"]
    assert events[0]["action"] == "device_token.created" and events[0]["by"] == "borrower"
    assert app.post("/security/freeze").status_code == 200
    actions = [item["action"] for item in app.get("/security/events").json()["items"]]
    assert "account.frozen" in actions


def test_phone_change_path_a(api_as, deliver, last_code):
    user = BorrowerFactory(phone="+8613800138000")
    app, other = api_as(user, "a", "A"), api_as(user, "b", "B")
    assert app.get("/phone-change").status_code == 404
    with deliver():
        started = app.post("/phone-change")
    assert started.status_code == 201 and started.json()["next_step"] == "confirm_old"
    change_id = started.json()["id"]
    old = app.post(f"/phone-change/{change_id}/old", {"code": last_code(user.phone)})
    assert old.status_code == 200 and old.json()["next_step"] == "set_new"
    allow_next_code()
    with deliver():
        new = app.post(f"/phone-change/{change_id}/new", {"new_phone": "13900139000"})
    assert new.status_code == 200 and new.json()["new_phone"] == "139****9000"
    with deliver():
        done = app.post(f"/phone-change/{change_id}/confirm", {"code": last_code(NEW)})
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == PhoneChange.Status.COMPLETED
    assert app.get("/me").json()["phone"] == "139****9000"
    assert other.get("/me").status_code == 401  # every other device is signed out


def test_phone_change_refusals_and_cancel(api_as, deliver, last_code):
    user = BorrowerFactory(phone="+8613800138000")
    app = api_as(user)
    with deliver():
        change_id = app.post("/phone-change").json()["id"]
    wrong = app.post(f"/phone-change/{change_id}/old", {"code": "000000"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "code_refused"
    again = app.post("/phone-change")  # a new start texts the current number again: too soon
    assert again.status_code == 429 and again.json()["code"] == "code_send_refused"
    assert app.post(f"/phone-change/{change_id}/cancel").status_code == 200
    assert app.post(f"/phone-change/{change_id}/code").json()["code"] == "not_open"


def test_identity(api_as):
    user = BorrowerFactory()
    app = api_as(user)
    assert app.get("/identity").status_code == 404
    done = app.post("/identity", {"real_name": "张三", "id_number": "110105199003071239"})
    assert done.status_code == 201, done.json()
    assert done.json()["id_number"] != "110105199003071239" and "*" in done.json()["id_number"]
    again = app.post("/identity", {"real_name": "张三", "id_number": "110105199003071239"})
    assert again.status_code == 422
