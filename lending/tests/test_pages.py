import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_home_is_chinese_by_default(client):
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "安全绑定" in page


def test_a_signed_in_borrower_lands_on_their_loans(sign_in):
    from accounts.tests.factories import BorrowerFactory

    assert sign_in(BorrowerFactory()).get("/")["Location"] == "/loans/"


def test_the_switcher_turns_the_portal_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Your repayment card and phone, safely bound" in page


def test_the_switcher_does_not_redirect_off_site(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.parametrize("language, text", [("zh-hans", "页面不存在"), ("en", "Page not found")])
def test_404_page_in_both_languages(client, language, text):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    assert text in response.content.decode()


@pytest.mark.parametrize("language, text", [("zh-hans", "出错了"), ("en", "Something went wrong")])
def test_500_page_in_both_languages_shows_no_internals(client, language, text, monkeypatch):
    def broken(request):
        raise RuntimeError("internal detail 6222021234567890128")

    monkeypatch.setattr("lending.views.render", lambda *a, **k: broken(None))
    client.raise_request_exception = False
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
    body = response.content.decode()
    assert response.status_code == 500
    assert text in body
    assert "internal detail" not in body and "6222021234567890128" not in body


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/")["X-Request-ID"]) == 32


@override_settings(DEBUG=False)
def test_pages_refuse_framing(client):
    assert client.get("/")["X-Frame-Options"] == "DENY"


def test_a_nul_byte_in_the_query_string_is_a_clean_400(client):
    response = client.get("/cards/", {"q": "a\x00b"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "Bad request" in response.text
