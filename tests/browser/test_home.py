import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_home_loads_in_chinese_and_the_switcher_turns_it_english(page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("还款银行卡与手机号，安全绑定")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits a phone

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your repayment card and phone, safely bound")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the choice is remembered


def test_the_skip_link_leads_to_the_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    skip.press("Enter")
    assert page.url.endswith("#main")
