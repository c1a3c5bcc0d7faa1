"""Accessibility as a test: axe-core finds no serious or critical violation on any portal page,
in Chinese and in English, on a phone and on a desktop; every focusable element shows where the
focus is, and the phone's tab bar works from the keyboard. (The back office: the test beside.)"""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.axe import axe_in, serious_violations
from tests.browser.conftest import PHONE
from tests.browser.portal_pages import PUBLIC, borrower_with_history, signed_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
LANGUAGES = {"zh-hans": "zh-CN", "en": "en-US"}


def context_for(browser, live_server, language, viewport):
    context = browser.new_context(locale=LANGUAGES[language], viewport=viewport, base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    axe_in(context)
    return context


def checked(context, paths) -> list[str]:
    page = context.new_page()
    found = []
    for path in paths:
        response = page.goto(path)
        assert response.ok, f"{path}: {response.status}"
        found += serious_violations(page)
        if "<" in page.title():  # a template block left open once put the account page's menu there
            found.append(f"{path}: markup in the title: {page.title()[:80]}")
    page.close()
    return found


@pytest.fixture
def borrower(bank, deliver):
    with deliver():
        return borrower_with_history(bank)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_serious_violation_on_any_portal_page(browser, live_server, transactional_db, borrower, language):
    found = []
    for viewport in (PHONE, DESKTOP):
        context = context_for(browser, live_server, language, viewport)
        found += checked(context, PUBLIC.values())
        found += checked(signed_in(context, borrower.user, live_server.url), borrower.pages.values())
        context.close()
    assert not found, "\n".join(found)


FOCUS_SHOWN = """() => {
    const style = getComputedStyle(document.activeElement);
    return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
}"""


def test_the_tab_bar_works_from_the_keyboard_and_focus_is_always_visible(
    browser, live_server, transactional_db, borrower
):
    context = signed_in(context_for(browser, live_server, "zh-hans", PHONE), borrower.user, live_server.url)
    page = context.new_page()
    page.goto("/cards/")
    unseen = []
    for _ in range(60):  # through the page to the tab bar, which comes last
        page.keyboard.press("Tab")
        if not page.evaluate(FOCUS_SHOWN):
            unseen.append(page.evaluate("document.activeElement.outerHTML.slice(0, 120)"))
        if page.evaluate("!!document.activeElement.closest('.tab-bar')"):
            break
    assert not unseen, unseen
    tabs = page.get_by_role("navigation", name="标签栏")
    expect(tabs.get_by_role("link", name="借款")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="我的借款")).to_be_visible()
    expect(tabs.get_by_role("link", name="借款")).to_have_attribute("aria-current", "page")
    page.keyboard.press("Tab")  # focus starts again from the top of the new page
    for _ in range(60):
        if page.evaluate("!!document.activeElement.closest('.tab-bar a[href=\"/accounts/\"]')"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="我的账户")).to_be_visible()
    context.close()
