"""The loan page leads with what is overdue; repay now, pay off early and the receipt, scoped to
the borrower; a form sent twice pays once; the back office sees the borrower's payments."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory, StaffFactory
from cards.tests import sandbox_cards
from cards.tests.conftest import allow_next_code
from lending.models import DebitAttempt, Installment
from lending.money import money
from lending.services import loans_collect

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(bind, borrower, make_loan):
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    good = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    loan = make_loan(borrower, first_due=timezone.localdate() - timedelta(days=5))
    loans_collect(loan_ids=[loan.pk], day=timezone.localdate())
    return loan, good


def payment_ref(page: str) -> str:
    return re.search(r'name="payment_ref" value="([0-9a-f]{32})"', page).group(1)


def send_code(client, url, data, deliver, last_code, phone) -> str:
    allow_next_code()
    with deliver():
        response = client.post(url, {**data, "send": "1"})
    assert response.status_code == 302
    return last_code(phone)


def test_the_loan_page_leads_with_what_is_overdue_and_one_repay_now_action(sign_in, borrower, overdue):
    loan, _good = overdue
    page = sign_in(borrower).get(f"/loans/{loan.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    first = loan.installments.get(number=1)
    lead = page[page.index("<h1>") : page.index("Repayment schedule")]
    assert (
        "Overdue" in lead
        and money(first.amount_due) in lead
        and "is overdue. Longest: 5 days past due." in lead
    )
    assert lead.count(f'href="/loans/{loan.pk}/repay/"') == 1 and "5 days past due" in page
    zh = sign_in(borrower).get(f"/loans/{loan.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "立即还款" in zh
    # The schedule's texts, written by the view, in the borrower's language too.
    assert "第 1 期" in zh and "逾期 5 天" in zh and f"本金 {money(first.principal_due)} + 利息" in zh


def test_repay_now_through_the_pages_then_the_receipt(sign_in, borrower, overdue, deliver, last_code, bank):
    loan, good = overdue
    client = sign_in(borrower)
    url = f"/loans/{loan.pk}/repay/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    first = loan.installments.get(number=1)
    assert f'value="{first.pk}"' in page and "checked" in page
    form = {"installments": [first.pk], "card": good.pk, "payment_ref": payment_ref(page)}
    code = send_code(client, url, form, deliver, last_code, borrower.phone)
    again = client.get(url).content.decode()
    assert payment_ref(again) == form["payment_ref"]  # kept while the borrower reads the code

    response = client.post(url, {**form, "code": code})
    assert response.status_code == 302
    receipt = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    attempt = DebitAttempt.objects.get(trigger="borrower")
    assert attempt.gateway_reference and attempt.gateway_reference in receipt
    assert (
        money(attempt.amount) in receipt and attempt.card.masked_number in receipt and "Collected" in receipt
    )

    # The same form sent again (a second click, the back button): the receipt, nothing more paid.
    response = client.post(url, {**form, "code": code}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "already made: nothing more was debited" in response.content.decode()
    assert len(bank.debits(status="succeeded")) == 1


def test_an_installment_not_yet_due_gets_a_clear_refusal(
    sign_in, bind, borrower, make_loan, deliver, last_code
):
    card = bind(borrower)
    loan = make_loan(borrower, first_due=timezone.localdate())
    client = sign_in(borrower)
    url = f"/loans/{loan.pk}/repay/"
    page = client.get(url).content.decode()
    later = loan.installments.get(number=2)
    form = {"installments": [later.pk], "card": card.pk, "payment_ref": payment_ref(page)}
    code = send_code(client, url, form, deliver, last_code, borrower.phone)
    response = client.post(url, {**form, "code": code}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Only installments of this loan that are due can be paid here." in response.content.decode()
    assert not DebitAttempt.objects.exists()


def test_another_borrowers_loan_or_installment_answers_404(sign_in, bind, borrower, make_loan, overdue):
    loan, good = overdue
    other = BorrowerFactory(phone="+8613900139000")
    identity_verify(actor=other, real_name="李四", id_number="11010519491231002X")
    bind(other, sandbox_cards.THIRD_GOOD_DEBIT, reserved="+8613900139000")
    theirs = make_loan(other, first_due=timezone.localdate() - timedelta(days=5))
    their_installment = theirs.installments.get(number=1)
    client = sign_in(borrower)

    for url in (
        f"/loans/{theirs.pk}/repay/",
        f"/loans/{theirs.pk}/payoff/",
        f"/loans/{theirs.pk}/payments/{'a' * 32}/",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/loans/{theirs.pk}/repay/", {"send": "1"}).status_code == 404
    page = client.get(f"/loans/{loan.pk}/repay/").content.decode()
    form = {
        "installments": [their_installment.pk],
        "card": good.pk,
        "payment_ref": payment_ref(page),
        "code": "123456",
    }
    assert client.post(f"/loans/{loan.pk}/repay/", form).status_code == 404
    assert not DebitAttempt.objects.filter(trigger="borrower").exists()
    assert Installment.objects.get(pk=their_installment.pk).paid_amount == 0


def test_the_payoff_page_shows_the_amount_before_the_borrower_confirms(sign_in, bind, borrower, make_loan):
    bind(borrower)
    loan = make_loan(borrower)
    page = sign_in(borrower).get(f"/loans/{loan.pk}/payoff/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    from lending.services.repayment import loan_payoff_quote

    quote = loan_payoff_quote(loan, timezone.localdate())
    assert (
        money(quote.total) in page and money(quote.principal) in page and "To settle the loan today" in page
    )
    today = timezone.localdate()
    chinese = (
        sign_in(borrower).get(f"/loans/{loan.pk}/payoff/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    )
    assert f"{today.year}年{today.month}月{today.day}日" in chinese  # the date as the other pages write it


def test_the_back_office_shows_the_trigger_and_a_loans_payments_and_balance(
    admin_login, sign_in, borrower, overdue, deliver, last_code
):
    from lending.services.repayment import loan_repay, loan_repay_code_send

    loan, good = overdue
    allow_next_code()
    with deliver():
        loan_repay_code_send(actor=borrower, loan=loan, purpose="loan_repay")
    loan_repay(
        actor=borrower,
        loan=loan,
        installment_ids=[loan.installments.get(number=1).pk],
        card_id=good.pk,
        code=last_code(borrower.phone),
        payment_ref="b" * 32,
    )
    officer = StaffFactory(role="officer")
    client = admin_login(officer)
    listing = client.get(
        "/admin/lending/debitattempt/?trigger=borrower", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Borrower&#x27;s payment" in listing or "Borrower's payment" in listing
    page = client.get(f"/admin/lending/loan/{loan.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    loan.refresh_from_db()
    assert "Borrower&#x27;s payment" in page or "Borrower's payment" in page
    assert f"{loan.outstanding}" in page


def test_the_failed_debit_notice_and_text_lead_to_the_loan_page(borrower, overdue, settings):
    from accounts.models import Notification, SmsMessage

    loan, _good = overdue
    notice = Notification.objects.get(user=borrower, kind="debit_failed_retry")
    assert notice.link == f"/loans/{loan.pk}/"
    sms = SmsMessage.objects.get(template="debit_failed_retry")
    assert (
        f"{settings.SITE_URL}/loans/{loan.pk}/" in sms.body and "立即用任意一张卡还款" in sms.body
    )  # the borrower's language


def test_pay_off_early_through_the_pages_then_the_loan_is_settled(
    sign_in, bind, borrower, make_loan, deliver, last_code, bank
):
    from lending.models import Loan

    card = bind(borrower)
    loan = make_loan(borrower)
    client = sign_in(borrower)
    url = f"/loans/{loan.pk}/payoff/"
    page = client.get(url).content.decode()
    form = {"card": card.pk, "payment_ref": payment_ref(page)}
    code = send_code(client, url, form, deliver, last_code, borrower.phone)
    response = client.post(url, {**form, "code": code})
    assert response.status_code == 302
    receipt = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    loan.refresh_from_db()
    assert loan.status == Loan.Status.PAID_OFF and "Paid off" in receipt
    attempts = DebitAttempt.objects.filter(trigger="payoff")
    assert attempts.count() == 3 == len(bank.debits(status="succeeded"))
    assert all(a.gateway_reference in receipt for a in attempts)
    # Nothing left to pay: the page says so, and the loan page offers no payoff any more.
    assert client.get(url).status_code == 302
    assert f'href="{url}"' not in client.get(f"/loans/{loan.pk}/").content.decode()


def test_late_charges_are_shown_apart_only_when_the_product_defines_them(
    sign_in, borrower, overdue, settings
):
    loan, _good = overdue
    client = sign_in(borrower)
    assert "Late charges" not in client.get(f"/loans/{loan.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    settings.LOAN_LATE_CHARGE_DAILY_RATES = {"phone": "0.001"}
    page = client.get(f"/loans/{loan.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    principal = loan.installments.get(number=1).principal_due
    charge = (principal * 5 / 1000).quantize(principal)  # 5 days at 0.1% of the principal
    assert f"Late charges so far: ¥{charge}" in page
    repay = client.get(f"/loans/{loan.pk}/repay/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"late charge ¥{charge} included" in repay


def test_the_repay_form_keeps_its_reference_without_writing_the_session_on_every_view(
    sign_in, borrower, overdue
):
    from django.conf import settings

    loan, _good = overdue
    client = sign_in(borrower)
    url = f"/loans/{loan.pk}/repay/"
    first = client.get(url)
    again = client.get(url)
    assert payment_ref(first.content.decode()) == payment_ref(again.content.decode())
    assert settings.SESSION_COOKIE_NAME in first.cookies  # the reference written once
    assert settings.SESSION_COOKIE_NAME not in again.cookies  # and not again


def test_the_tab_of_the_page_is_marked_on_the_loan_and_account_pages(bind, borrower, make_loan, sign_in):
    bind(borrower)
    loan = make_loan(borrower)
    client = sign_in(borrower)
    tabs = {
        f"/loans/{loan.pk}/repay/": "Loans",
        f"/loans/{loan.pk}/payoff/": "Loans",
        "/privacy/": "Me",
        "/support/": "Me",
        "/cards/": "Cards",
    }
    for path, tab in tabs.items():
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        bar = page[page.index('<nav class="tab-bar"') :]
        marked = re.findall(r'aria-current="page">.*?<span>(\w+)</span>', bar, re.S)
        assert marked == [tab], path


@pytest.mark.parametrize(
    "count, days, english, chinese",
    [
        (
            1,
            1,
            "1 installment, ¥10.00, is overdue. Longest: 1 day past due.",
            "1 期共 ¥10.00 已逾期。 最长逾期 1 天。",
        ),
        (2, 35, "2 installments, ¥10.00, are overdue. Longest: 35 days past due.", "最长逾期 35 天。"),
    ],
)
def test_the_overdue_lead_counts_installments_and_days_each_in_its_own_plural(count, days, english, chinese):
    from types import SimpleNamespace

    from django.template.loader import render_to_string
    from django.utils import translation

    repay = {"overdue": [None] * count, "overdue_amount": 10, "days_past_due": days}
    context = {"repay": repay, "loan": SimpleNamespace(pk=1)}
    with translation.override("en"):
        assert english in render_to_string("lending/_repay.html", context)
    with translation.override("zh-hans"):
        assert chinese in render_to_string("lending/_repay.html", context)


def test_with_nothing_due_repay_now_offers_the_early_payoff_and_no_form(sign_in, bind, borrower, make_loan):
    from django.conf import settings

    bind(borrower)
    loan = make_loan(borrower)  # the first installment falls due next month
    client = sign_in(borrower)
    url = f"/loans/{loan.pk}/repay/"
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200 and "Nothing is due on this loan today" in page
    assert f'href="/loans/{loan.pk}/payoff/"' in page and 'name="payment_ref"' not in page
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # no form, no reference kept
    Installment.objects.filter(loan=loan, number=1).update(due_date=timezone.localdate())
    due = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Nothing is due" not in due and 'name="payment_ref"' in due and "Installment 1, due" in due
