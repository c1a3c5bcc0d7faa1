"""Registration, login, logout and password reset pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SmsCodeSend, User
from accounts.tests.factories import BorrowerFactory
from accounts.tests.helpers import wrong
from audit.models import AuditEvent
from tests.pages import comparable

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
PASSWORD = "Lending-pass-2026"

BAD_NUMBERS = [
    ("", "required"),
    ("abc", "mainland China mobile"),
    ("12345", "mainland China mobile"),
    ("+14155550123", "Only mainland China"),
    ("+85291234567", "Only mainland China"),
    ("010-6512-3456", "not a mobile"),
    ("1" * 10_000, "at most"),
]
BAD_CODES = ["abcdef", "12345", "1234567", "١٢٣٤٥٦", "' OR 1=1 --"]


def allow_next_code():
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))


def start_registration(client, deliver, phone=PHONE):
    with deliver():
        return client.post("/accounts/register/", {"phone": phone})


def complete_form(client, code, **overrides):
    page = client.get("/accounts/register/complete/", HTTP_ACCEPT_LANGUAGE="en")
    form = page.context["form"]
    data = {
        "code": code,
        "new_password1": PASSWORD,
        "new_password2": PASSWORD,
        "privacy_version": form.policy.version,
        "privacy_sha256": form.policy.sha256,
        "accept_privacy": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_register_page_renders_in_both_languages(client, language):
    response = client.get("/accounts/register/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()


def test_registration_end_to_end(client, deliver, last_code):
    response = start_registration(client, deliver, "138 0013 8000")
    assert response.status_code == 302 and response["Location"] == "/accounts/register/complete/"

    page = client.get("/accounts/register/complete/").content.decode()
    assert "138****8000" in page and "13800138000" not in page
    assert "隐私政策" in page  # the policy is shown

    data = complete_form(client, last_code(PHONE))
    response = client.post("/accounts/register/complete/", data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302 and response["Location"] == "/accounts/"
    user = User.objects.get(phone=PHONE)
    assert client.get("/accounts/").status_code == 200  # signed in and verified
    assert user.consents.get().document == "privacy"


@pytest.mark.parametrize("value, message", BAD_NUMBERS)
def test_bad_numbers_get_a_message_and_send_nothing(client, sms_outbox, value, message):
    response = client.post("/accounts/register/", {"phone": value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert sms_outbox == [] and not SmsCodeSend.objects.exists()


def test_existing_and_new_numbers_look_the_same_until_the_code(client, deliver):
    BorrowerFactory(phone="+8613900139000")
    existing = start_registration(client, deliver, "+8613900139000")
    existing_page = client.get(existing["Location"])
    new = start_registration(client, deliver, PHONE)
    new_page = client.get(new["Location"])
    assert (existing.status_code, existing["Location"]) == (new.status_code, new["Location"])
    assert same_page(existing_page, new_page, "139****9000", "138****8000")


def test_an_existing_number_is_told_after_the_code(client, deliver, last_code):
    BorrowerFactory(phone=PHONE)
    start_registration(client, deliver)
    data = complete_form(client, last_code(PHONE))
    response = client.post("/accounts/register/complete/", data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "already has an account" in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.parametrize("code", BAD_CODES)
def test_bad_codes_get_a_message(client, deliver, code):
    start_registration(client, deliver)
    response = client.post(
        "/accounts/register/complete/", complete_form(client, code), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "6 digits" in response.content.decode()
    assert not User.objects.exists()


def test_a_wrong_code_counts_and_says_how_many_tries_are_left(client, deliver, last_code):
    start_registration(client, deliver)
    data = complete_form(client, wrong(last_code(PHONE)))
    response = client.post("/accounts/register/complete/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert "4 tries left" in response.content.decode()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"new_password1": "123", "new_password2": "123"}, "too short"),
        ({"new_password2": "different-Pass-1"}, "differ"),
        ({"accept_privacy": ""}, "Accept the privacy policy"),
        ({"privacy_sha256": "0" * 64}, "has changed"),
    ],
)
def test_bad_passwords_and_missing_consent_keep_the_code_unspent(
    client, deliver, last_code, overrides, message
):
    start_registration(client, deliver)
    code = last_code(PHONE)
    response = client.post(
        "/accounts/register/complete/", complete_form(client, code, **overrides), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not User.objects.exists()
    response = client.post(
        "/accounts/register/complete/", complete_form(client, code), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302  # the code still works


def test_the_complete_page_needs_a_started_registration(client):
    assert client.get("/accounts/register/complete/")["Location"] == "/accounts/register/"


def test_resend_is_limited_and_says_when(client, deliver, sms_outbox):
    start_registration(client, deliver)
    response = client.post("/accounts/register/resend/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "seconds" in response.content.decode()
    assert len(sms_outbox) == 1
    allow_next_code()
    with deliver():
        client.post("/accounts/register/resend/")
    assert len(sms_outbox) == 2


def login(client, deliver, phone, password="borrower-pass-123"):
    with deliver():
        return client.post("/accounts/login/", {"phone": phone, "password": password})


def test_login_needs_the_password_then_the_code(client, deliver, last_code):
    borrower = BorrowerFactory(phone=PHONE)
    key_before = client.session.session_key

    response = login(client, deliver, PHONE)
    assert response["Location"] == "/accounts/login/verify/"
    assert client.get("/accounts/").status_code == 302  # not signed in yet
    key_after_password = client.session.session_key

    response = client.post("/accounts/login/verify/", {"code": last_code(PHONE)})
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200
    assert len({key_before, key_after_password, client.session.session_key}) == 3  # rotated twice
    assert AuditEvent.objects.filter(action="login.succeeded", actor=borrower).exists()


def test_login_goes_back_to_next_but_never_off_site(client, deliver, last_code):
    BorrowerFactory(phone=PHONE)
    with deliver():
        client.post(
            "/accounts/login/?next=/accounts/security/", {"phone": PHONE, "password": "borrower-pass-123"}
        )
    assert (
        client.post("/accounts/login/verify/", {"code": last_code(PHONE)})["Location"]
        == "/accounts/security/"
    )
    client.post("/accounts/logout/")
    allow_next_code()
    with deliver():
        client.post(
            "/accounts/login/?next=https://evil.example/", {"phone": PHONE, "password": "borrower-pass-123"}
        )
    assert client.post("/accounts/login/verify/", {"code": last_code(PHONE)})["Location"] == "/accounts/"


def test_wrong_password_and_unknown_number_look_the_same(client):
    BorrowerFactory(phone=PHONE)
    wrong_password = client.post("/accounts/login/", {"phone": PHONE, "password": "nope"})
    unknown = client.post("/accounts/login/", {"phone": "+8613911112222", "password": "nope"})
    assert wrong_password.status_code == unknown.status_code == 200
    assert wrong_password.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_login_is_locked_after_five_wrong_passwords(client):
    BorrowerFactory(phone=PHONE)
    for _ in range(5):
        client.post("/accounts/login/", {"phone": PHONE, "password": "nope"})
    response = client.post(
        "/accounts/login/", {"phone": PHONE, "password": "borrower-pass-123"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "locked" in response.content.decode()


def test_the_verify_page_needs_the_password_step(client):
    assert client.get("/accounts/login/verify/")["Location"] == "/accounts/login/"


@pytest.mark.parametrize("code", BAD_CODES)
def test_bad_login_codes_get_a_message(client, deliver, code):
    BorrowerFactory(phone=PHONE)
    login(client, deliver, PHONE)
    response = client.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get("/accounts/").status_code == 302


def test_logout_is_post_only_and_ends_the_session_on_the_server(client, sign_in):
    from django.contrib.sessions.models import Session

    sign_in(BorrowerFactory())
    key = client.session.session_key
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/accounts/").status_code == 302


def test_password_reset_end_to_end_then_login_still_needs_the_code(client, deliver, last_code):
    BorrowerFactory(phone=PHONE)
    with deliver():
        client.post("/accounts/password/reset/", {"phone": PHONE})
    data = {"code": last_code(PHONE), "new_password1": "Fresh-pass-2026", "new_password2": "Fresh-pass-2026"}
    response = client.post("/accounts/password/reset/complete/", data)
    assert response["Location"] == "/accounts/login/"
    assert client.get("/accounts/").status_code == 302  # a reset never signs in
    allow_next_code()
    response = login(client, deliver, PHONE, "Fresh-pass-2026")
    assert response["Location"] == "/accounts/login/verify/"


def test_password_reset_answers_the_same_for_unknown_numbers(client, deliver):
    BorrowerFactory(phone=PHONE)
    known = client.post("/accounts/password/reset/", {"phone": PHONE}, follow=True)
    unknown = client.post("/accounts/password/reset/", {"phone": "+8613911112222"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert same_page(known, unknown, "138****8000", "139****2222")


def same_page(first, second, first_number, second_number) -> bool:
    """Equal but for the (masked) number typed and what differs per request (tests/pages.py)."""

    def normalise(response, number):
        return comparable(response.content.decode().replace(number, "<number>"))

    return normalise(first, first_number) == normalise(second, second_number)
