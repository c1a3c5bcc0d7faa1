"""The API's conventions: the pages' refusal codes, documents only when opened, CORS closed."""

import re

import pytest

from accounts.models import SmsCode
from accounts.services import account_freeze
from accounts.tests.factories import BorrowerFactory
from cards.services import card_action_code_send, cards_unbind_all
from lending.errors import DomainError

pytestmark = pytest.mark.django_db


def page_codes(page) -> list[str]:
    """The refusal codes a page shows (``data-code`` on its messages and form errors)."""
    return re.findall(r'data-code="([a-z_]+)"', page.content.decode())


def refusal_of(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_the_page_and_the_api_refuse_alike(api_as, borrower, bind, make_loan, sign_in, deliver, last_code):
    """Unbinding every card while a loan is being repaid: the same service refusal, its code in
    the API's answer and on the page's form error, its message on both."""
    bind(borrower)
    make_loan(borrower)
    with deliver():
        card_action_code_send(actor=borrower, purpose=SmsCode.Purpose.CARDS_UNBIND_ALL, target=borrower.pk)
    code = last_code(borrower.phone)
    expected = refusal_of(lambda: cards_unbind_all(actor=borrower, code="000000"))
    app = api_as(borrower)
    answer = app.post("/cards/unbind-all", {"code": code})
    assert answer.status_code == 422
    assert answer.json()["code"] == expected.code == "loan_outstanding"
    page = sign_in(borrower).post("/cards/unbind-all/", {"code": code}, headers={"Accept-Language": "en"})
    assert answer.json()["detail"] in page.content.decode()
    assert page_codes(page) == ["loan_outstanding"]


def test_the_page_and_the_api_limit_codes_alike(api_as, borrower, bind, sign_in, deliver):
    card = bind(borrower)
    app = api_as(borrower)
    with deliver():
        assert app.post(f"/cards/{card.pk}/code", {"purpose": "card_unbind"}).status_code == 200
    api_answer = app.post(f"/cards/{card.pk}/code", {"purpose": "card_unbind"})
    page = sign_in(borrower).post(
        f"/cards/{card.pk}/code/", {"purpose": "card_unbind"}, follow=True, headers={"Accept-Language": "en"}
    )
    assert api_answer.json()["code"] == "code_send_refused"
    wait_words = api_answer.json()["detail"].split(" ")[:3]  # "Please wait N second(s)"
    assert " ".join(wait_words[:2]) in page.content.decode()
    assert page_codes(page) == ["code_send_refused"]  # the page's message


def test_the_page_and_the_api_refuse_a_wrong_code_alike(api_as, borrower, bind, sign_in, deliver):
    card = bind(borrower)
    app = api_as(borrower)
    with deliver():
        app.post(f"/cards/{card.pk}/code", {"purpose": "card_unbind"})
    answer = app.post(f"/cards/{card.pk}/unbind", {"code": "000000"})
    page = sign_in(borrower).post(
        f"/cards/{card.pk}/unbind/", {"code": "000000"}, headers={"Accept-Language": "en"}
    )
    assert answer.status_code == 422 and answer.json()["code"] == "code_refused"
    assert page_codes(page) == ["code_refused"]


def test_the_page_and_the_api_refuse_a_frozen_account_alike(api_as, borrower, bind, sign_in):
    card = bind(borrower)
    account_freeze(actor=None, user=borrower, reason="test")  # ends tokens and sessions: sign in after
    borrower.refresh_from_db()
    answer = api_as(borrower).post(f"/cards/{card.pk}/code", {"purpose": "card_unbind"})
    page = sign_in(borrower).get(f"/cards/{card.pk}/unbind/")
    assert answer.status_code == 403 and answer.json()["code"] == "account_frozen"
    assert page_codes(page) == ["account_frozen"]


def test_documents_only_when_opened(client, settings):
    settings.API_DOCS_ENABLED = False
    assert client.get("/api/v1/openapi.json").status_code == 404
    assert client.get("/api/v1/docs").status_code == 404
    settings.API_DOCS_ENABLED = True
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200 and document.json()["openapi"].startswith("3.1")
    for operation in (op for path in document.json()["paths"].values() for op in path.values()):
        if operation.get("operationId", "").endswith(("_sign_in", "_reauth")):
            assert operation["parameters"][0]["name"] == "Idempotency-Key"
    docs = client.get("/api/v1/docs")
    page = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "script-src" not in docs["Content-Security-Policy"]  # scripts: default-src 'self'
    assert "style-src 'self' 'unsafe-inline'" in docs["Content-Security-Policy"]
    assert "cdn" not in page.lower() and "https://" not in page


def test_cors_stays_closed(api_as):
    app = api_as(BorrowerFactory())
    answer = app.get("/me", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 200 and not answer.has_header("Access-Control-Allow-Origin")
    preflight = app.client.options(
        "/api/v1/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert not preflight.has_header("Access-Control-Allow-Origin")


def test_answers_are_never_cached(api_as):
    answer = api_as(BorrowerFactory()).get("/me")
    assert "no-store" in answer["Cache-Control"]


def test_unknown_paths_and_methods_answer_problems(api_as):
    app = api_as(BorrowerFactory())
    missing = app.get("/nothing-here")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
    wrong_method = app.get("/notifications/read")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    malformed = app.client.post(
        "/api/v1/auth/reauth",
        "{not json",
        content_type="application/json",
        headers=app.headers({"Idempotency-Key": "m1"}),
    )
    assert malformed.status_code in (400, 422) and malformed["Content-Type"] == "application/problem+json"


def test_sign_in_answers_are_never_cached_either(api):
    answer = api.post(
        "/auth/sign-in", {"phone": "13800000000", "password": "x", "device_id": "d", "device_name": "D"}
    )
    assert "no-store" in answer["Cache-Control"]


def test_a_locked_sign_in_says_when_to_try_again(api, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = BorrowerFactory()
    body = {"phone": str(user.phone), "password": "wrong-pass-9", "device_id": "d", "device_name": "D"}
    for _ in range(2):
        api.post("/auth/sign-in", body)
    locked = api.post("/auth/sign-in", body)
    assert locked.status_code == 429 and locked.json()["code"] == "locked"
    assert 0 < int(locked["Retry-After"]) <= settings.LOGIN_LOCKOUT_MINUTES * 60


def test_a_refusal_of_the_outer_middleware_is_a_problem_too(api_as):
    answer = api_as(BorrowerFactory()).get("/notifications", {"cursor": "a\x00b"})
    assert answer.status_code == 400 and answer["Content-Type"] == "application/problem+json"
