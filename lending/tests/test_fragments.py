"""Page parts rendered once per language (lending/fragments.py): each language gets its own."""

import re

import pytest
from django.conf import settings

from accounts.models import User
from accounts.tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db


def test_the_privacy_centres_tables_follow_the_language_of_each_request(client, sign_in):
    sign_in(BorrowerFactory())
    seen = []
    for language in ["zh-hans", "en", "zh-hans", "en"]:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get("/privacy/").content.decode()
        seen.append(("我们持有的信息及保存期限" in page, "短信服务商" in page, "The SMS provider" in page))
    chinese, english = (True, True, False), (False, False, True)
    assert seen == [chinese, english, chinese, english]


def marked(page: str, nav: str) -> list[str]:
    """The texts of the links marked as the current page in the header (``site-nav``) or the tab bar."""
    part = page[page.index(f'<nav class="{nav}"') :]
    part = part[: part.index("</nav>")]
    return [
        " ".join(re.sub(r"<[^>]+>", "", text).split())
        for text in re.findall(r'aria-current="page">(.*?)</a>', part, re.S)
    ]


def test_the_header_and_the_tab_bar_mark_the_section_of_each_page(client, sign_in):
    sign_in(BorrowerFactory())
    expected = {
        "/loans/": ("Loans", "Loans"),
        "/cards/": ("Cards", "Cards"),
        "/accounts/": ("My account", "Me"),
        "/accounts/security/": ("Security", "Me"),
        "/notifications/": ("Notifications", "Me"),
        "/privacy/": ("My account", "Me"),
        "/support/": ("My account", "Me"),
    }
    for path, (header, tab) in expected.items():
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert (marked(page, "site-nav"), marked(page, "tab-bar")) == ([header], [tab]), path


def test_the_unread_badge_follows_the_count_in_each_language(client, sign_in):
    borrower = BorrowerFactory()
    sign_in(borrower)
    badges = []
    for unread, language in [(0, "en"), (2, "en"), (2, "zh-hans"), (1, "en"), (0, "zh-hans")]:
        User.objects.filter(pk=borrower.pk).update(unread_notifications=unread)
        page = client.get("/cards/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        badges.append(re.findall(r'<span class="badge" aria-label="([^"]+)">(\d+)</span>', page))
    assert badges == [
        [],
        [("2 unread", "2")] * 2,
        [("2 条未读", "2")] * 2,
        [("1 unread", "1")] * 2,
        [],
    ]
