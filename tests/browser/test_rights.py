"""Borrower rights in a browser: a help request from the card refusal answered by support, and
asking to close the account."""

import re

import pytest
from playwright.sync_api import expect

from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory, StaffFactory
from cards.tests import sandbox_cards
from cards.tests.conftest import bind  # noqa: F401
from privacy.models import AccountClosure
from support.models import SupportCase
from support.services import support_case_reply
from tests.browser.test_cards import dev_site, newest_code, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def _borrower(phone="+8613800138000", name="张三", id_number="110105199003071239"):
    user = BorrowerFactory(phone=phone)
    identity_verify(actor=user, real_name=name, id_number=id_number)
    return user


def test_a_help_request_from_the_card_refusal_is_answered(page, dev_site, bind):  # noqa: F811
    other = _borrower("+8613900139000", "李四", "310101198506152345")
    bind(other)
    _borrower()
    sign_in(page)
    page.goto("/cards/bind/")
    page.get_by_label("卡号").fill(sandbox_cards.GOOD_DEBIT)
    page.get_by_label("预留手机号").fill("13800138000")
    page.get_by_role("button", name="获取银行验证码").click()
    expect(page.get_by_role("alert")).to_contain_text("该卡已绑定在其他账户")
    page.get_by_role("link", name="提交求助").click()
    expect(page.get_by_label("问题类别")).to_have_value("card")
    page.get_by_label("您的留言").fill("这张卡是我本人的,请帮我处理。")
    page.get_by_role("button", name="提交求助").click()
    expect(page.get_by_text("已收到您的求助")).to_be_visible()

    case = SupportCase.objects.get()
    support_case_reply(actor=StaffFactory(role="support"), case=case, text="请携带身份证和银行卡到网点办理。")
    page.reload()
    expect(page.get_by_text("请携带身份证和银行卡到网点办理。")).to_be_visible()
    page.goto("/notifications/")
    expect(page.get_by_text("客服已回复您的求助")).to_be_visible()


def test_asking_to_close_the_account(page, dev_site):  # noqa: F811
    _borrower()
    sign_in(page)
    page.goto("/accounts/")
    page.get_by_role("link", name="隐私中心").click()
    expect(page.get_by_role("heading", name="我们持有的信息及保存期限")).to_be_visible()
    page.get_by_role("link", name="注销账户").click()
    back = page.url
    page.get_by_role("button", name="发送验证码").click()
    code = newest_code(page)
    page.goto(back)
    page.get_by_label("密码").fill("borrower-pass-123")
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("我了解冷静期结束后账户将被注销，且无法恢复。").check()
    page.get_by_role("button", name="注销账户").click()
    expect(page.get_by_role("status")).to_contain_text("您已退出登录")
    assert AccountClosure.objects.get().status == "cooling_off"
    page.goto("/accounts/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
