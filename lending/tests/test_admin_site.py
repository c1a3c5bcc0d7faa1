"""The back office's frame: the work lists in the header instead of Django's nav sidebar."""

import re

import pytest

from accounts.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def work_lists(response) -> list[tuple[str, bool]]:
    """The header's work list links: (address, marked as the current page)."""
    nav = re.search(r'<nav id="work-lists"[^>]*>(.*?)</nav>', response.content.decode())
    assert nav, "no work lists in the header"
    return [
        (href, bool(current))
        for href, current in re.findall(r'<a href="([^"]+)"( aria-current="page")?', nav[1])
    ]


def test_the_header_links_the_work_lists_the_role_may_view_and_marks_the_current_one(admin_login):
    client = admin_login(StaffFactory(role="officer"))
    response = client.get("/admin/audit/reviewcase/", {"status__exact": "open"})
    assert work_lists(response) == [
        ("/admin/audit/reviewcase/", True),
        ("/admin/audit/riskalert/", False),
        ("/admin/support/supportcase/", False),
        ("/admin/audit/auditevent/", False),
        ("/admin/audit/auditexport/", False),
    ]
    assert re.search(r"aria-current=\"page\">审核案件</a>", response.content.decode())


def test_support_staff_see_only_the_lists_they_may_view(admin_login):
    client = admin_login(StaffFactory(role="support"))
    response = client.get("/admin/support/supportcase/")
    assert work_lists(response) == [
        ("/admin/audit/reviewcase/", False),
        ("/admin/support/supportcase/", True),
    ]


def test_no_page_carries_the_nav_sidebar_and_the_home_page_still_lists_every_model(admin_login):
    client = admin_login(StaffFactory(role="officer"))
    listing = client.get("/admin/cards/card/")
    assert listing.status_code == 200 and 'id="nav-sidebar"' not in listing.content.decode()
    home = client.get("/admin/").content.decode()
    for model in ("/admin/cards/card/", "/admin/lending/loan/", "/admin/audit/reviewcase/"):
        assert f'href="{model}"' in home
    app = client.get("/admin/cards/")
    assert app.status_code == 200 and 'href="/admin/cards/mandate/"' in app.content.decode()
    assert client.get("/admin/nosuchapp/").status_code == 404
