"""SMS codes and sessions, attacked through the pages (the services' own rules are tested in
accounts/tests/test_codes.py, test_login.py, test_views_auth.py and cards/tests/test_unbinding.py):
a code opens only the operation, the target and the session it was sent for, guessing is bounded
per code and per number, a forged X-Forwarded-For does not escape the per-IP limit, a session cookie
planted before sign-in or kept after sign-out opens nothing, and ``next`` never leads off the site.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import PhoneChange, SmsCode, User
from accounts.services import phone_change_start, sms_code_send, sms_code_verify
from accounts.tests.factories import BorrowerFactory, StaffFactory, issue_backup_code
from accounts.tests.helpers import wrong
from audit.models import AuditEvent
from cards.models import Card, Mandate
from cards.tests import sandbox_cards

pytestmark = pytest.mark.django_db

PHONE = "+8613800138011"
PASSWORD = "borrower-pass-123"
NEW_PASSWORD = "Lending-pass-2026"
Purpose = SmsCode.Purpose


@pytest.fixture
def codes_without_waiting(settings):
    settings.SMS_CODE_RESEND_SECONDS = 0  # the per-number and per-IP counts still apply


def test_a_login_code_only_works_in_the_session_that_asked_for_it(client, deliver, last_code):
    BorrowerFactory(phone=PHONE)
    with deliver():
        client.post("/accounts/login/", {"phone": PHONE, "password": PASSWORD})
    code = last_code(PHONE)

    other = Client()
    response = other.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert other.get("/accounts/").status_code == 302  # not signed in

    response = client.post("/accounts/login/verify/", {"code": code})
    assert response["Location"] == "/accounts/"  # the code was not spent by the other session


def complete_registration(client, code) -> dict:
    policy = client.get("/accounts/register/complete/").context["form"].policy
    return {
        "code": code,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        "privacy_version": policy.version,
        "privacy_sha256": policy.sha256,
        "accept_privacy": "on",
    }


@pytest.mark.parametrize("flow", ["register", "password reset"])
def test_a_code_is_refused_in_a_session_that_did_not_start_its_flow(flow, client, deliver, last_code):
    """(Another session that starts the flow for the same number gets its own code: the code proves
    the phone, the session proves who asked.)"""
    start, complete = {
        "register": ("/accounts/register/", "/accounts/register/complete/"),
        "password reset": ("/accounts/password/reset/", "/accounts/password/reset/complete/"),
    }[flow]
    if flow == "password reset":
        BorrowerFactory(phone=PHONE)
    with deliver():
        client.post(start, {"phone": PHONE})
    code = last_code(PHONE)
    data = complete_registration(client, code) if flow == "register" else {}
    data |= {"code": code, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    events = AuditEvent.objects.count()

    other = Client()
    assert other.post(complete, data)["Location"] == start  # sent back to the start, nothing checked
    assert AuditEvent.objects.count() == events
    if flow == "register":
        assert not User.objects.exists()
    else:
        assert User.objects.get().check_password(PASSWORD)  # unchanged

    assert client.post(complete, data).status_code == 302  # unspent: the flow's own session finishes
    assert User.objects.get(phone=PHONE).check_password(NEW_PASSWORD)


def test_guessing_a_login_code_is_bounded_per_code_and_per_number(
    client, deliver, last_code, sms_outbox, settings, codes_without_waiting
):
    """Someone who knows the password: signing in again for a fresh code does not give the old
    code more tries, and the number's daily limit caps the codes, so the guesses a day are at most
    SMS_CODE_DAILY_LIMIT x SMS_CODE_MAX_ATTEMPTS."""
    settings.SMS_CODE_DAILY_LIMIT = 3
    borrower = BorrowerFactory(phone=PHONE)
    for _round in range(settings.SMS_CODE_DAILY_LIMIT + 2):
        with deliver():
            assert client.post("/accounts/login/", {"phone": PHONE, "password": PASSWORD}).status_code == 302
        code = last_code(PHONE)
        for _try in range(settings.SMS_CODE_MAX_ATTEMPTS + 2):
            assert client.post("/accounts/login/verify/", {"code": wrong(code)}).status_code == 200
        device = SmsCode.objects.get(scope=SmsCode.scope_for(Purpose.LOGIN, borrower.pk))
        # each code was compared five times, then used up; signing in again gave it no more tries
        assert device.wrong_tries == settings.SMS_CODE_MAX_ATTEMPTS and not device.code_hash
    assert len(sms_outbox) == settings.SMS_CODE_DAILY_LIMIT
    assert client.post("/accounts/login/verify/", {"code": code}).status_code == 200  # used up
    assert client.get("/accounts/").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_per_ip_limit(
    deliver, sms_outbox, settings, codes_without_waiting
):
    settings.SMS_CODE_IP_HOURLY_LIMIT = 3
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(5):
        with deliver():
            attacker.post(
                "/accounts/register/", {"phone": f"1390000100{n}"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
            )
    assert len(sms_outbox) == 3
    with deliver():
        Client(REMOTE_ADDR="203.0.113.6").post("/accounts/register/", {"phone": "13900001009"})
    assert len(sms_outbox) == 4  # another client is not affected


def card_state():
    return (
        list(Card.objects.order_by("pk").values_list("pk", "status", "is_repayment")),
        list(Mandate.objects.order_by("pk").values_list("pk", "status")),
        list(PhoneChange.objects.order_by("pk").values_list("pk", "status")),
    )


def test_a_code_opens_only_the_operation_and_card_it_was_sent_for(
    bind, borrower, sign_in, deliver, last_code, settings, codes_without_waiting
):
    settings.SMS_CODE_DAILY_LIMIT = 20  # twelve codes to one number here
    first, second = bind(borrower), bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    client = sign_in(borrower)

    def send(url, data):
        with deliver():
            assert client.post(url, data).status_code == 302
        return last_code(borrower.phone)

    def card_codes() -> dict:
        """(purpose, target) -> a live code, each asked for on its page."""
        return {
            (Purpose.CARD_REPAYMENT, second.pk): send(
                f"/cards/{second.pk}/code/", {"purpose": "card_repayment"}
            ),
            (Purpose.CARD_UNBIND, first.pk): send(f"/cards/{first.pk}/code/", {"purpose": "card_unbind"}),
            (Purpose.CARD_UNBIND, second.pk): send(f"/cards/{second.pk}/code/", {"purpose": "card_unbind"}),
            (Purpose.CARD_SWAP, f"{first.pk}:{second.pk}"): send(
                f"/cards/{first.pk}/code/", {"purpose": "card_swap", "new_card": second.pk}
            ),
            (Purpose.CARDS_UNBIND_ALL, borrower.pk): send("/cards/unbind-all/", {"send": "1"}),
        }

    pages = {  # where each operation's code is entered
        (Purpose.CARD_REPAYMENT, second.pk): (f"/cards/{second.pk}/repayment/", {}),
        (Purpose.CARD_UNBIND, first.pk): (f"/cards/{first.pk}/unbind/", {}),
        (Purpose.CARD_UNBIND, second.pk): (f"/cards/{second.pk}/unbind/", {}),
        (Purpose.CARD_SWAP, f"{first.pk}:{second.pk}"): (f"/cards/{first.pk}/swap/", {"new_card": second.pk}),
        (Purpose.CARDS_UNBIND_ALL, borrower.pk): ("/cards/unbind-all/", {}),
    }

    def enter_elsewhere(codes: dict):
        """Each code on every page but its own: refused (at most 4 wrong tries for each page's code)."""
        before = card_state()
        for scope, code in codes.items():
            for page, (url, data) in pages.items():
                if page != scope:
                    response = client.post(url, {**data, "code": code})
                    assert response.status_code in (200, 400), (url, response.status_code)
                    form = response.context["form"] or response.context["swap_form"]
                    assert form.errors, url
        assert card_state() == before

    def all_live(codes: dict):
        for (purpose, target), code in codes.items():
            sms_code_verify(purpose=purpose, target=target, code=code)  # would raise if spent

    codes = card_codes()
    enter_elsewhere(codes)
    all_live(codes)

    # Codes of other flows, for the same borrower and number: the login and the phone change.
    codes = card_codes()
    with deliver():
        sms_code_send(purpose=Purpose.LOGIN, target=borrower.pk, phone=borrower.phone, user=borrower)
    others = {(Purpose.LOGIN, borrower.pk): last_code(borrower.phone)}
    with deliver():
        change = phone_change_start(actor=borrower)
    others[(Purpose.PHONE_CHANGE_OLD, change.pk)] = last_code(borrower.phone)
    enter_elsewhere(others)
    all_live({**codes, **others})


def test_a_session_key_planted_before_sign_in_opens_nothing_after_it(client, admin_login, deliver, last_code):
    planted = client.session
    planted["visited"] = True
    planted.save()
    attacker = Client()
    attacker.cookies[django_settings.SESSION_COOKIE_NAME] = planted.session_key

    with deliver():  # a borrower registers in that browser, and is signed in at the end
        client.post("/accounts/register/", {"phone": PHONE})
    assert client.session.session_key == planted.session_key  # not signed in yet: kept
    assert (
        client.post(
            "/accounts/register/complete/", complete_registration(client, last_code(PHONE))
        ).status_code
        == 302
    )
    assert client.get("/accounts/").status_code == 200
    registered = client.session.session_key
    assert registered != planted.session_key and not Session.objects.filter(pk=planted.session_key).exists()
    assert attacker.get("/accounts/").status_code == 302

    attacker.cookies[django_settings.SESSION_COOKIE_NAME] = registered
    admin_login(StaffFactory(role="officer"))  # then staff sign in to the back office in it
    assert client.get("/admin/").status_code == 200
    assert client.session.session_key != registered
    assert attacker.get("/admin/").status_code == 302 and attacker.get("/accounts/").status_code == 302


@pytest.mark.parametrize("side", ["portal", "back office"])
def test_a_session_cookie_kept_after_sign_out_opens_nothing(side, client, sign_in, admin_login):
    if side == "portal":
        sign_in(BorrowerFactory(phone=PHONE))
        home, logout = "/accounts/", "/accounts/logout/"
    else:
        admin_login(StaffFactory(role="officer"))
        home, logout = "/admin/", "/admin/logout/"
    copy = Client()
    copy.cookies[django_settings.SESSION_COOKIE_NAME] = client.cookies[
        django_settings.SESSION_COOKIE_NAME
    ].value
    assert copy.get(home).status_code == 200  # the copied cookie works while the session lasts
    assert client.post(logout).status_code in (200, 302)
    assert copy.get(home).status_code == 302  # ended on the server, not only in the browser
    assert client.get(home).status_code == 302


def test_sessions_read_from_redis_still_end_on_sign_out_and_on_a_freeze(
    client, sign_in, settings, redis_url, django_capture_on_commit_callbacks
):
    """Production reads sessions, and the verified sign-in, from the shared cache (lending.sessions,
    accounts.signin_cache): ending one still ends it."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.services import account_freeze

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    settings.SESSION_ENGINE = "lending.sessions"
    borrower = BorrowerFactory(phone=PHONE)
    sign_in(borrower)
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert cache.get(f"django.contrib.sessions.cached_db{key}")  # what requests read first
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/accounts/").status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"]]

    copy = Client()
    copy.cookies[django_settings.SESSION_COOKIE_NAME] = key
    client.post("/accounts/logout/")
    assert copy.get("/accounts/").status_code == 302
    assert cache.get(f"django.contrib.sessions.cached_db{key}") is None

    sign_in(borrower)
    assert client.get("/accounts/").status_code == 200
    assert client.get("/accounts/").status_code == 200  # the sign-in now read from the cache
    with django_capture_on_commit_callbacks(execute=True):  # the freeze committed
        account_freeze(actor=None, user=borrower, reason="checking a report")  # ends every session
    assert client.get("/accounts/").status_code == 302


OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
    "http://testserver@evil.example/",
    "https://evil.example\\@testserver/",
    "javascript:alert(1)",
    " //evil.example/",
    "/\t/evil.example/",
    "\x01//evil.example/",
]


def leaves_the_site(location: str) -> bool:
    """Read ``location`` as a browser does: tabs and newlines dropped, leading controls and spaces
    stripped, backslashes as slashes."""
    url = "".join(ch for ch in location if ch not in "\t\r\n").lstrip("".join(map(chr, range(33))))
    url = re.sub(r"^/{2,}", "//", url.replace("\\", "/"))  # three slashes or more: still a host
    parts = urlsplit(url)
    if parts.scheme and not parts.netloc:  # "https:evil.example" is a host from an http page
        return True
    return parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver")


def landing(response) -> str:
    return response["Location"] if response.status_code in (301, 302, 303, 307, 308) else ""


@pytest.mark.parametrize("target", OFF_SITE, ids=range(len(OFF_SITE)))
def test_next_never_leads_off_the_site(target, client, sign_in, deliver, last_code, codes_without_waiting):
    assert leaves_the_site(target)  # the checker itself
    borrower = BorrowerFactory(phone=PHONE)
    with deliver():
        client.post("/accounts/login/", {"phone": PHONE, "password": PASSWORD, "next": target})
    landings = {"login": landing(client.post("/accounts/login/verify/", {"code": last_code(PHONE)}))}
    sign_in(borrower, reauthenticated=False)
    landings["login, signed in"] = landing(client.get("/accounts/login/", {"next": target}))
    landings["reauth"] = landing(
        client.post("/accounts/confirm-password/", {"password": PASSWORD, "next": target})
    )
    landings["language"] = landing(client.post("/i18n/setlang/", {"language": "en", "next": target}))

    staff, back_office = StaffFactory(role="officer"), Client()
    device, token = issue_backup_code(staff)
    credentials = {
        "username": staff.username,
        "password": "staff-pass-123",
        "otp_device": device,
        "otp_token": token,
    }
    landings["admin login"] = landing(back_office.post(f"/admin/login/?next={target}", credentials))
    assert back_office.get("/admin/").status_code == 200
    landings["admin logout"] = landing(back_office.post("/admin/logout/", {"next": target}))

    assert all(url for view, url in landings.items() if view != "admin logout")  # each one redirected
    assert {view: url for view, url in landings.items() if leaves_the_site(url)} == {}
