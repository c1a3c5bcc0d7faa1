"""Every state-changing portal request needs the CSRF token; no page can be framed."""

import re

import pytest
from django.test import Client

from accounts.tests.factories import BorrowerFactory
from tests.security.routes import portal_routes

pytestmark = pytest.mark.django_db


def test_a_post_without_the_csrf_token_is_refused_everywhere():
    borrower = BorrowerFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(borrower, backend="django.contrib.auth.backends.ModelBackend")
    checked = 0
    for route, _ in portal_routes():
        route = "/" + re.sub(r"<int:\w+>", "1", route)
        response = client.post(route, {"code": "123456"})
        assert response.status_code in (403, 405), (route, response.status_code)
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
