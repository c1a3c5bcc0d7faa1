"""Every state-changing portal request needs the CSRF token; no page can be framed."""

import re

import pytest
from django.test import Client

from accounts.tests.factories import BorrowerFactory
from tests.bank_server import key_pair
from tests.security.routes import portal_routes

pytestmark = pytest.mark.django_db


# Posted by the bank, not a browser: its signature is checked instead of a CSRF token (401 without).
SIGNED = {"/bank/notices/"}


def test_a_post_without_the_csrf_token_is_refused_everywhere(settings, tmp_path):
    settings.BANK_PUBLIC_KEY = str(key_pair(tmp_path, "bank")[1])
    borrower = BorrowerFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(borrower, backend="django.contrib.auth.backends.ModelBackend")
    checked = 0
    for route, _ in portal_routes():
        route = "/" + re.sub(r"<slug:\w+>", "a" * 32, re.sub(r"<id:\w+>", "1", route))
        response = client.post(route, {"code": "123456"})
        allowed = (401,) if route in SIGNED else (403, 405)
        assert response.status_code in allowed, (route, response.status_code)
        checked += response.status_code == 403
    assert checked >= 15


def test_pages_cannot_be_framed_and_carry_a_content_security_policy(client):
    for url in ("/", "/accounts/login/", "/accounts/register/", "/admin/login/", "/no-such-page/"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY"
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
        assert "script-src" not in policy  # scripts: 'self' only, from default-src
        if url.startswith("/admin/"):
            assert "style-src 'self' 'unsafe-inline'" in policy  # the admin's own scripts set styles
        else:
            assert "unsafe-inline" not in policy, url


def test_the_policy_built_once_is_django_csps(client, settings):
    """The header built once per process (lending/csp.py) is the one django-csp builds each time."""
    fast = {url: client.get(url)["Content-Security-Policy"] for url in ("/accounts/login/", "/admin/login/")}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"default-src": ["'self'"]}
    }  # django-csp's way
    for url, policy in fast.items():
        response = client.get(url)
        assert response["Content-Security-Policy"] == policy
        assert response["Content-Security-Policy-Report-Only"].startswith("default-src 'self'")


def _no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


def test_signed_in_and_back_office_pages_are_kept_by_no_cache(sign_in, admin_login):
    from accounts.tests.factories import StaffFactory

    borrower = BorrowerFactory()
    client = sign_in(borrower)
    pages = [route for route, params in portal_routes() if not params and "dev/" not in route]
    for route in pages:
        response = client.get("/" + route)
        assert _no_store(response), (route, response.get("Cache-Control"))

    client.logout()
    admin_login(StaffFactory(role="officer"))
    for url in ("/admin/", "/admin/audit/reviewcase/", "/admin/audit/auditevent/", "/admin/login/"):
        response = client.get(url, follow=True)
        assert _no_store(response), url


def test_the_anonymous_home_page_stays_cacheable(client):
    assert "no-store" not in client.get("/").get("Cache-Control", "")
