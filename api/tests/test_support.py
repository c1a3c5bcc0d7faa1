"""Help requests over the API: open, list, read (no internal notes), reply; the pages' refusals."""

import pytest

from accounts.tests.factories import BorrowerFactory, StaffFactory
from cards.tests import sandbox_cards
from support.models import SupportCase
from support.services import support_case_note, support_case_reply

pytestmark = pytest.mark.django_db


def test_open_list_read_and_reply(api_as, borrower, bind, settings):
    card = bind(borrower)
    app = api_as(borrower)
    body = {"category": "card", "message": f"My card {sandbox_cards.GOOD_DEBIT} fails", "card_id": card.pk}
    opened = app.post("/help-requests", body)
    assert opened.status_code == 201, opened.json()
    case = opened.json()
    assert case["status"] == SupportCase.Status.OPEN and case["card"] == card.masked_number
    assert sandbox_cards.GOOD_DEBIT not in opened.content.decode()  # masked before it is stored
    assert case["messages"][0]["kind"] == "borrower" and case["answer_due_at"]
    assert [item["id"] for item in app.get("/help-requests").json()["items"]] == [case["id"]]

    officer = StaffFactory(role="officer")
    stored = SupportCase.objects.get(pk=case["id"])
    support_case_note(actor=officer, case=stored, text="internal: check the bank")
    support_case_reply(actor=officer, case=stored, text="Please try again now.")
    read = app.get(f"/help-requests/{case['id']}").json()
    assert [m["kind"] for m in read["messages"]] == ["borrower", "reply"]
    assert read["messages"][1]["by"] == "Customer service"
    assert "internal" not in app.get(f"/help-requests/{case['id']}").content.decode()

    replied = app.post(f"/help-requests/{case['id']}/reply", {"text": "It works, thanks"})
    assert replied.status_code == 201 and replied.json()["messages"][-1]["body"] == "It works, thanks"


def test_help_request_refusals(api_as, borrower, settings):
    app = api_as(borrower)
    wrong = app.post("/help-requests", {"category": "nonsense", "message": "hi"})
    assert wrong.status_code == 422 and "category" in wrong.json()["errors"]
    empty = app.post("/help-requests", {"category": "card", "message": ""})
    assert empty.status_code == 422 and "message" in empty.json()["errors"]
    other = BorrowerFactory(phone="+8613900139000")
    theirs = api_as(other, "theirs", "Theirs").post("/help-requests", {"category": "card", "message": "x"})
    assert app.get(f"/help-requests/{theirs.json()['id']}").status_code == 404
    assert app.post(f"/help-requests/{theirs.json()['id']}/reply", {"text": "mine"}).status_code == 404
    settings.SUPPORT_REQUESTS_PER_DAY = 1
    assert app.post("/help-requests", {"category": "card", "message": "one"}).status_code == 201
    flood = app.post("/help-requests", {"category": "card", "message": "two"})
    assert flood.status_code == 422 and flood.json()["code"] == "too_many"
