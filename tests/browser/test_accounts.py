"""A borrower registers, signs out, signs in with the code read from /dev/sms/, and changes the phone."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User

pytestmark = pytest.mark.browser


@pytest.fixture
def dev_site(settings):
    settings.DEBUG = True  # /dev/sms/ is where a newcomer reads the codes
    settings.SMS_CODE_RESEND_SECONDS = 0  # the flow sends several codes to one number within a minute


def latest_code(page, masked_number: str) -> str:
    page.goto("/dev/sms/")
    row = page.locator("table.sms tbody tr", has_text=masked_number).first
    return re.search(r"\b(\d{6})\b", row.locator(".sms-body").inner_text()).group(1)


def test_register_sign_out_sign_in_and_change_phone(page, dev_site):
    password = "Browser-pass-2026"
    page.goto("/")
    page.get_by_role("link", name="注册", exact=True).first.click()
    page.get_by_label("手机号").fill("138 0013 8000")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送至 138****8000")).to_be_visible()

    code = latest_code(page, "138****8000")
    page.go_back()
    page.reload()
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_label("再次输入密码").fill(password)
    page.get_by_label("我已阅读并同意上述隐私政策。").check()
    page.get_by_role("button", name="完成注册").click()
    expect(page.get_by_role("heading", name="我的账户")).to_be_visible()

    page.get_by_role("button", name="退出").click()
    expect(page.get_by_text("您已退出登录。")).to_be_visible()

    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("手机号").fill("13800138000")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="继续").click()
    expect(page.get_by_role("heading", name="输入短信验证码")).to_be_visible()
    code = latest_code(page, "138****8000")
    page.go_back()
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="登录").last.click()
    expect(page.get_by_role("heading", name="我的账户")).to_be_visible()

    page.get_by_role("link", name="更换手机号").click()
    page.get_by_role("button", name="发送验证码至 138****8000").click()
    code = latest_code(page, "138****8000")
    page.goto("/accounts/phone/change/")
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="确认").click()
    page.get_by_label("新手机号").fill("139 0013 9000")
    page.get_by_role("button", name="发送验证码至新号码").click()
    code = latest_code(page, "139****9000")
    page.goto("/accounts/phone/change/")
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="确认更换").click()

    expect(page.get_by_text("您的手机号已更换为 139****9000")).to_be_visible()
    assert str(User.objects.get().phone) == "+8613900139000"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits a phone
