"""Repay now, pay off early and the receipt over the API: the pages' services, refusals and
scoping; a payment sent again pays once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cards.tests import sandbox_cards
from cards.tests.conftest import allow_next_code
from lending.models import DebitAttempt, Loan
from lending.services import loans_collect

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(bind, borrower, make_loan):
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    good = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    loan = make_loan(borrower, first_due=timezone.localdate() - timedelta(days=5))
    loans_collect(loan_ids=[loan.pk], day=timezone.localdate())
    return loan, good


def code_for(app, path, deliver, last_code, phone) -> str:
    allow_next_code()
    with deliver():
        sent = app.post(path)
    assert sent.status_code == 200, sent.json()
    assert sent.json()["phone"] != phone and "*" in sent.json()["phone"]
    return last_code(phone)


def test_repay_now_then_the_receipt_and_a_second_send_pays_nothing_more(
    api_as, borrower, overdue, deliver, last_code, bank
):
    loan, good = overdue
    app = api_as(borrower)
    quote = app.get(f"/loans/{loan.pk}/repay").json()
    first = loan.installments.get(number=1)
    assert [part["installment"] for part in quote["parts"]] == [first.pk]
    assert good.pk in [card["id"] for card in quote["cards"]]
    assert all("*" in card["masked_number"] for card in quote["cards"])
    code = code_for(app, f"/loans/{loan.pk}/repay/code", deliver, last_code, borrower.phone)
    body = {"installments": [first.pk], "card": good.pk, "code": code, "payment_ref": quote["payment_ref"]}
    paid = app.post(f"/loans/{loan.pk}/repay", body)
    assert paid.status_code == 201, paid.json()
    answer = paid.json()
    attempt = DebitAttempt.objects.get(trigger="borrower")
    assert answer["again"] is False and answer["paid"] == str(attempt.amount)
    assert answer["card"] == good.masked_number and answer["lines"][0]["bank_reference"]
    receipt = app.get(f"/loans/{loan.pk}/payments/{quote['payment_ref']}").json()
    assert receipt["lines"] == answer["lines"] and receipt["pending"] is False

    again = app.post(f"/loans/{loan.pk}/repay", body)  # a new Idempotency-Key, the same payment
    assert again.status_code == 201 and again.json()["again"] is True
    assert len(bank.debits(status="succeeded")) == 1


def test_repay_refusals(api_as, borrower, overdue, deliver, last_code, bind, make_loan):
    loan, good = overdue
    app = api_as(borrower)
    ref = app.get(f"/loans/{loan.pk}/repay").json()["payment_ref"]
    later = loan.installments.get(number=2)
    code = code_for(app, f"/loans/{loan.pk}/repay/code", deliver, last_code, borrower.phone)
    body = {"installments": [later.pk], "card": good.pk, "code": code, "payment_ref": ref}
    not_due = app.post(f"/loans/{loan.pk}/repay", body)
    assert not_due.status_code == 422 and not_due.json()["code"] == "not_payable"
    assert "Only installments of this loan that are due" in not_due.json()["detail"]
    bad_ref = app.post(f"/loans/{loan.pk}/repay", {**body, "payment_ref": "not-a-ref"})
    assert bad_ref.status_code == 422 and "payment_ref" in bad_ref.json()["errors"]
    credit = app.post(f"/loans/{loan.pk}/repay", {**body, "card": 999999})
    assert credit.status_code == 422 and "card" in credit.json()["errors"]
    other_loan = make_loan(borrower)
    foreign = app.post(
        f"/loans/{loan.pk}/repay", {**body, "installments": [other_loan.installments.first().pk]}
    )
    assert foreign.status_code == 404
    too_soon = app.post(f"/loans/{loan.pk}/repay/code")
    assert too_soon.status_code == 429 and too_soon.json()["code"] == "code_send_refused"
    assert not DebitAttempt.objects.filter(trigger="borrower").exists()
    assert app.get(f"/loans/{loan.pk}/payments/{'f' * 32}").status_code == 404

    assert app.post("/security/freeze").status_code == 200
    frozen = app.get(f"/loans/{loan.pk}/repay")
    assert frozen.status_code == 403 and frozen.json()["code"] == "account_frozen"


def test_pay_off_early_then_the_loan_is_settled(api_as, bind, borrower, make_loan, deliver, last_code, bank):
    card = bind(borrower)
    loan = make_loan(borrower)
    app = api_as(borrower)
    quote = app.get(f"/loans/{loan.pk}/payoff").json()
    assert len(quote["parts"]) == 3 and quote["total"] != "0.00"
    code = code_for(app, f"/loans/{loan.pk}/payoff/code", deliver, last_code, borrower.phone)
    body = {"card": card.pk, "code": code, "payment_ref": quote["payment_ref"]}
    changed = app.post(f"/loans/{loan.pk}/payoff", {**body, "total": "1.00"})
    assert changed.status_code == 422 and changed.json()["code"] == "amount_changed"
    assert "has changed" in changed.json()["detail"]
    paid = app.post(f"/loans/{loan.pk}/payoff", {**body, "total": quote["total"]})
    assert paid.status_code == 201, paid.json()
    assert paid.json()["loan_status"] == Loan.Status.PAID_OFF and len(paid.json()["lines"]) == 3
    assert len(bank.debits(status="succeeded")) == 3
    done = app.get(f"/loans/{loan.pk}/payoff")
    assert done.status_code == 422 and done.json()["code"] == "not_payable"
