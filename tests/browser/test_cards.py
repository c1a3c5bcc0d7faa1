"""A borrower binds cards with the bank's code read on the sandbox bank's texts page (linked from
/dev/sms/), picks the repayment card, swaps it, unbinds."""

import re

import pytest
from playwright.sync_api import expect

from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory
from cards.models import Card
from cards.tests import sandbox_cards

pytestmark = pytest.mark.browser


@pytest.fixture
def dev_site(settings):
    settings.DEBUG = True
    settings.SMS_CODE_RESEND_SECONDS = 0


def newest_code(page) -> str:
    page.goto("/dev/sms/")
    return re.search(r"\b(\d{6})\b", page.locator(".sms-body").first.inner_text()).group(1)


def newest_bank_code(page) -> str:
    """The bank's code, found as a newcomer would: /dev/sms/ links to the sandbox bank's texts."""
    page.goto("/dev/sms/")
    page.get_by_role("link", name="沙箱银行的短信").click()
    return page.locator(".code").first.inner_text().strip()


def sign_in(page):
    page.goto("/accounts/login/")
    page.get_by_label("手机号").fill("13800138000")
    page.get_by_label("密码").fill("borrower-pass-123")
    page.get_by_role("button", name="继续").click()
    code = newest_code(page)
    page.goto("/accounts/login/verify/")
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="登录").last.click()


def bind_card(page, number):
    page.goto("/cards/bind/")
    page.get_by_label("卡号").fill(number)
    page.get_by_label("预留手机号").fill("13800138000")
    page.get_by_role("button", name="获取银行验证码").click()
    confirm_url = page.url
    code = newest_bank_code(page)
    page.goto(confirm_url)
    page.get_by_label("银行验证码").fill(code)
    page.get_by_label("我同意上述委托扣款授权。").check()
    page.get_by_role("button", name="确认绑卡").click()
    expect(page.get_by_role("heading", name="我的银行卡")).to_be_visible()


def send_and_enter_code(page, send_button: str, confirm_button: str):
    back = page.url
    page.get_by_role("button", name=send_button).click()
    code = newest_code(page)
    page.goto(back)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name=confirm_button).click()


def test_bind_choose_repayment_swap_and_unbind(page, dev_site, make_loan):
    borrower = BorrowerFactory(phone="+8613800138000")
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    sign_in(page)

    bind_card(page, "6222 0200 0000 0061 234")
    expect(page.locator(".bank-card").first).to_contain_text("还款卡")
    bind_card(page, sandbox_cards.OTHER_GOOD_DEBIT)
    second = Card.objects.get(bin="621700")

    page.goto(f"/cards/{second.pk}/repayment/")
    send_and_enter_code(page, "发送验证码至 138****8000", "确认")
    expect(page.get_by_text("您的贷款将从")).to_be_visible()
    second.refresh_from_db()
    assert second.is_repayment

    make_loan(borrower)
    page.goto(f"/cards/{second.pk}/unbind/")
    page.get_by_role("button", name="发送验证码").click()
    code = newest_code(page)
    page.goto(f"/cards/{second.pk}/unbind/")
    page.locator("form[action$='/swap/'] input[name=code]").fill(code)
    page.get_by_role("button", name="换卡并解绑").click()
    expect(page.get_by_text("已解绑")).to_be_visible()
    assert Card.objects.get(bin="622202").is_repayment and Card.objects.get(bin="621700").status == "unbound"

    bind_card(page, sandbox_cards.CMB_DEBIT_16)
    third = Card.objects.get(bin="621483")
    page.goto(f"/cards/{third.pk}/unbind/")
    send_and_enter_code(page, "发送验证码至 138****8000", "解绑")
    expect(page.get_by_text("已解绑")).to_be_visible()
    third.refresh_from_db()
    assert third.status == "unbound"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_collected_installment_shows_on_the_loan_page_on_a_phone(page, dev_site, make_loan):
    from conftest import FIRST_DUE
    from lending.services import loans_collect

    borrower = BorrowerFactory(phone="+8613800138000")
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    sign_in(page)
    bind_card(page, sandbox_cards.GOOD_DEBIT)
    loan = make_loan(borrower, product="car", principal="80000.00", term_months=24)
    loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)

    page.goto("/loans/")
    page.get_by_role("link", name=f"车贷 #{loan.pk}").click()
    expect(page.get_by_role("heading", name="还款计划")).to_be_visible()
    attempt = page.locator(".attempt-succeeded")
    expect(attempt).to_contain_text("**** 1234")
    expect(attempt).to_contain_text("已扣款")
    expect(page.locator(".installment-paid")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
