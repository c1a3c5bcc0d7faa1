"""After the morning debit failed for lack of money, the borrower follows the notice to the loan
page and repays the overdue installment from another card, with the code read on /dev/sms/."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory
from cards.tests import sandbox_cards
from cards.tests.conftest import bind  # noqa: F401,F811  (a fixture)
from lending.models import DebitAttempt
from lending.services import loans_collect
from tests.browser.test_cards import newest_code, sign_in

pytestmark = pytest.mark.browser


def test_failed_debit_notice_loan_page_repay_now_receipt(page, settings, bind, make_loan, bank):  # noqa: F811
    settings.DEBUG = True  # /dev/sms/
    settings.SMS_CODE_RESEND_SECONDS = 0
    borrower = BorrowerFactory(phone="+8613800138000")
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)  # the repayment card, empty
    bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    today = timezone.localdate()
    loan = make_loan(borrower, first_due=today - timedelta(days=2))
    [failed] = loans_collect(loan_ids=[loan.pk], day=today)
    assert failed.failure_code == "insufficient_funds"

    sign_in(page)
    page.goto("/notifications/")
    notice = page.locator("li").filter(has_text="还款扣款未成功")
    notice.get_by_role("link").click()
    expect(page).to_have_url(f"{page.url.split('/loans/')[0]}/loans/{loan.pk}/")
    expect(page.get_by_role("heading", name="逾期", exact=True)).to_be_visible()
    page.get_by_role("link", name="立即还款").click()

    page.get_by_label("扣款卡").select_option(label="**** 5678 · 中国建设银行")
    page.get_by_role("button", name="发送验证码至 138****8000").click()
    back = page.url
    code = newest_code(page)
    page.goto(back)
    expect(page.get_by_label("扣款卡")).to_have_value(str(borrower.cards.get(bin="621700").pk))
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="支付").click()

    expect(page.get_by_role("heading", name="还款凭证")).to_be_visible()
    attempt = DebitAttempt.objects.get(trigger="borrower")
    expect(page.locator("table.receipt")).to_contain_text(attempt.gateway_reference)
    expect(page.locator("table.receipt")).to_contain_text("已扣款")
    assert [d["order_no"] for d in bank.debits(status="succeeded")] == [attempt.idempotency_key]
