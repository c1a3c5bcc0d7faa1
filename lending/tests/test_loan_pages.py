"""The borrower's loan pages, scoped to the owner, and the back office: disburse, failed debits, retry."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import AuditEvent
from cards.tests import sandbox_cards
from lending.models import DebitAttempt, Loan
from lending.services import loans_collect
from lending.tests.conftest import FIRST_DUE

pytestmark = pytest.mark.django_db


def test_the_loan_list_shows_outstanding_next_due_and_the_repayment_card(sign_in, bind, borrower, make_loan):
    bind(borrower)
    loan = make_loan(borrower)
    page = sign_in(borrower).get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    first = loan.installments.get(number=1)
    assert f"/loans/{loan.pk}/" in page
    assert f"¥{loan.outstanding:,}" in page and f"¥{first.amount_due:,}" in page  # with separators
    assert FIRST_DUE.isoformat() in page and "**** 1234" in page


def test_the_loan_page_shows_the_schedule_and_every_attempt(sign_in, bind, borrower, make_loan):
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    loan = make_loan(borrower)
    loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    page = sign_in(borrower).get(f"/loans/{loan.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('class="installment-') == 3
    assert "**** 9995" in page and "not enough money on the card" in page
    page_zh = sign_in(borrower).get(f"/loans/{loan.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "还款计划" in page_zh
    assert "扣款失败" in page_zh and "发送失败" not in page_zh  # a debit failed; no text failed to send


def test_another_borrowers_loan_is_not_found(sign_in, bind, borrower, make_loan):
    bind(borrower)
    loan = make_loan(borrower)
    client = sign_in(BorrowerFactory())
    assert client.get(f"/loans/{loan.pk}/").status_code == 404
    assert f"/loans/{loan.pk}/" not in client.get("/loans/").content.decode()


def test_loan_pages_need_a_signed_in_borrower(client, bind, borrower, make_loan):
    bind(borrower)
    loan = make_loan(borrower)
    for url in ("/loans/", f"/loans/{loan.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_loan_page_runs_the_same_queries_for_one_attempt_and_for_many(sign_in, bind, borrower, make_loan):
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    loan = make_loan(borrower)
    client = sign_in(borrower)
    loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/loans/{loan.pk}/")
    for days in (1, 3, 6):
        loans_collect(loan_ids=[loan.pk], day=FIRST_DUE + timedelta(days=days))
    assert DebitAttempt.objects.count() == 4
    with CaptureQueriesContext(connection) as four:
        client.get(f"/loans/{loan.pk}/")
    assert len(four) == len(one) <= 12


def test_the_loan_list_runs_the_same_queries_for_one_loan_and_for_three(sign_in, bind, borrower, make_loan):
    bind(borrower)
    make_loan(borrower)
    client = sign_in(borrower)
    with CaptureQueriesContext(connection) as one:
        client.get("/loans/")
    make_loan(borrower)
    make_loan(borrower, term_months=12)
    with CaptureQueriesContext(connection) as three:
        client.get("/loans/")
    assert len(three) == len(one) <= 12


def test_an_officer_disburses_a_loan_in_the_admin(admin_login, bind, borrower):
    bind(borrower)
    client = admin_login(StaffFactory(role="officer"))
    form = {
        "phone": "13800138000",
        "product": "car",
        "principal": "60000.00",
        "annual_rate_percent": "7.2",
        "term_months": "24",
        "first_due": "2026-12-20",
    }
    response = client.post("/admin/lending/loan/add/", form)
    loan = Loan.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/admin/lending/loan/{loan.pk}/change/"
    )
    assert (loan.product, loan.term_months, str(loan.annual_rate)) == ("car", 24, "0.0720")
    assert loan.installments.count() == 24
    assert AuditEvent.objects.get(action="loan.created").actor_label


def test_disbursing_to_a_borrower_without_a_repayment_card_is_refused_on_the_form(admin_login):
    BorrowerFactory(phone="+8613700137000")
    client = admin_login(StaffFactory(role="officer"))
    form = {
        "phone": "13700137000",
        "product": "phone",
        "principal": "3000",
        "annual_rate_percent": "12",
        "term_months": "6",
    }
    page = client.post("/admin/lending/loan/add/", form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "has not verified their identity" in page and not Loan.objects.exists()
    form["phone"] = "13600136000"
    page = client.post("/admin/lending/loan/add/", form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No borrower has this number" in page


def test_support_cannot_disburse(admin_login):
    client = admin_login(StaffFactory(role="support"))
    assert client.get("/admin/lending/loan/add/").status_code == 403


def test_failed_debits_are_listed_with_filters_and_an_officer_retries_one(
    admin_login, bind, borrower, make_loan
):
    bind(borrower, sandbox_cards.HARD_FAIL)
    loan = make_loan(borrower)
    [failed] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    client = admin_login(StaffFactory(role="officer"))
    listing = "/admin/lending/debitattempt/"
    page = client.get(listing, {"status": "failed", "failure_code": "mandate_revoked"}).content.decode()
    assert "mandate_revoked" in page and "**** 0119" in page
    assert "**** 0119" not in client.get(listing, {"failure_code": "insufficient_funds"}).content.decode()
    assert client.get(listing, {"created_at__gte": f"{FIRST_DUE} 00:00:00+08:00"}).status_code == 200

    selection = {"action": "retry", "_selected_action": [failed.pk]}
    asks_for_a_note = client.post(listing, selection).content.decode()
    assert 'name="note"' in asks_for_a_note
    client.post(listing, {**selection, "apply": "1", "note": "borrower called: bank mandate renewed"})

    retry = DebitAttempt.objects.get(number=2)
    # the bank ended the mandate at the first attempt, so there is nothing to debit now
    assert retry.trigger == DebitAttempt.Trigger.OFFICER and retry.failure_code == "no_repayment_card"
    event = AuditEvent.objects.get(action="debit.retry_requested")
    assert event.actor_label.startswith("officer") or event.actor_id
    assert event.data["note"] == "borrower called: bank mandate renewed"


def test_the_debit_attempts_list_counts_attempts_sent_again_and_loans_picked_up_late(
    admin_login, bind, borrower, make_loan
):
    bind(borrower)
    loan = make_loan(borrower)
    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE, trigger=DebitAttempt.Trigger.FOLLOW_UP)
    DebitAttempt.objects.filter(pk=attempt.pk).update(resent_count=2)
    client = admin_login(StaffFactory(role="officer"))

    def listing(**filters) -> str:
        response = client.get("/admin/lending/debitattempt/", filters, HTTP_ACCEPT_LANGUAGE="en")
        return response.content.decode()

    assert "1 debit attempt" in listing(sent_again="yes", trigger="follow_up")
    assert "0 debit attempts" in listing(sent_again="no")
    page = listing()
    assert "Follow-up run (picked up late)" in page and "By sent again" in page


def test_an_auditor_sees_failed_debits_but_cannot_retry(admin_login, bind, borrower, make_loan):
    bind(borrower, sandbox_cards.HARD_FAIL)
    loan = make_loan(borrower)
    [failed] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    client = admin_login(StaffFactory(role="auditor"))
    listing = "/admin/lending/debitattempt/"
    assert 'value="retry"' not in client.get(listing).content.decode()
    client.post(listing, {"action": "retry", "_selected_action": [failed.pk], "apply": "1", "note": "x"})
    assert DebitAttempt.objects.count() == 1


def test_a_retry_note_with_a_full_phone_number_is_masked_and_the_officer_told(
    admin_login, bind, borrower, make_loan
):
    bind(borrower, sandbox_cards.HARD_FAIL)
    loan = make_loan(borrower)
    [failed] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    client = admin_login(StaffFactory(role="officer"))
    selection = {"action": "retry", "_selected_action": [failed.pk], "apply": "1"}
    response = client.post(
        "/admin/lending/debitattempt/",
        {**selection, "note": "called 138-0013-8000"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "were masked before it was saved: mobile number." in response.content.decode()
    assert DebitAttempt.objects.count() == 2
    assert AuditEvent.objects.get(action="debit.retry_requested").data["note"] == "called 138****8000"
