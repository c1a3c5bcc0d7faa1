"""Playwright driving Debian's Chromium against the live test server."""

import os

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop in this thread; the ORM calls in the tests are
    # still synchronous, so Django's guard against async contexts does not apply.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser, live_server, transactional_db):
    """A phone-sized Chinese-language page; ``page.base_url`` is the live server. Fails the test if the
    Content-Security-Policy refused anything on the way."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []  # the Content-Security-Policy must never block anything the pages use
    page.on(
        "console", lambda message: "Content Security Policy" in message.text and refused.append(message.text)
    )
    yield page
    context.close()
    assert not refused, refused
