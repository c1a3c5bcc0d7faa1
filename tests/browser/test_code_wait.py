"""The resend button of a code page counts down and comes back on its own when another code may
be asked for; pressing it then sends one."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import BorrowerFactory

pytestmark = pytest.mark.browser


def test_the_resend_button_waits_out_the_send_limit_then_sends(page, settings, sms_outbox):
    settings.SMS_CODE_RESEND_SECONDS = 3
    BorrowerFactory(phone="+8613900139005")
    page.goto("/accounts/login/")
    page.get_by_label("手机号").fill("13900139005")
    page.get_by_label("密码").fill("borrower-pass-123")
    page.get_by_role("button", name="继续").click()

    resend = page.get_by_role("button", name="重新发送验证码")
    expect(resend).to_be_disabled()
    expect(page.locator("#code-wait")).to_contain_text("秒后可重新获取验证码")
    expect(resend).to_be_enabled(timeout=10_000)  # the page's own countdown, no reload
    expect(page.locator("#code-wait")).to_be_hidden()
    resend.click()
    expect(page.get_by_text("新的验证码已发送")).to_be_visible()
