"""Pages of the signed-in borrower: each needs both factors; sensitive ones the password again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Identity, Notification
from accounts.services import identity_verify, notification_create
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

BORROWER_PAGES = [
    "/accounts/",
    "/accounts/security/",
    "/accounts/security/freeze/",
    "/accounts/password/change/",
    "/accounts/confirm-password/",
    "/accounts/identity/",
    "/accounts/phone/change/",
    "/notifications/",
]


@pytest.mark.parametrize("url", BORROWER_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", BORROWER_PAGES)
def test_a_session_without_the_second_factor_is_refused(client, url):
    client.force_login(BorrowerFactory())  # password only
    assert client.get(url)["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", BORROWER_PAGES)
def test_staff_sessions_are_not_borrower_sessions(admin_login, url):
    client = admin_login(StaffFactory(role="officer"))
    assert client.get(url)["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", BORROWER_PAGES)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_renders_for_a_verified_borrower(sign_in, url, language):
    client = sign_in(BorrowerFactory())
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()


@pytest.mark.parametrize("url", ["/accounts/identity/", "/accounts/phone/change/"])
def test_sensitive_pages_ask_for_the_password_again(sign_in, url):
    client = sign_in(BorrowerFactory(), reauthenticated=False)
    response = client.get(url)
    assert response["Location"] == f"/accounts/confirm-password/?next={url.replace('/', '%2F')}"


def test_reauth_lets_the_borrower_through_and_is_recorded(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower, reauthenticated=False)
    response = client.post(
        "/accounts/confirm-password/?next=/accounts/identity/", {"password": "borrower-pass-123"}
    )
    assert response["Location"] == "/accounts/identity/"
    assert client.get("/accounts/identity/").status_code == 200
    assert AuditEvent.objects.filter(action="login.reauth", actor=borrower).exists()


def test_reauth_with_a_wrong_password_counts_as_a_failure(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower, reauthenticated=False)
    response = client.post("/accounts/confirm-password/", {"password": "nope"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response.context["form"].errors
    assert "The password is wrong." in response.text and "mobile number" not in response.text  # none asked
    assert AuditEvent.objects.get(action="login.password_failed").data["step"] == "reauth"


def test_reauth_expires(sign_in, settings):
    client = sign_in(BorrowerFactory())
    session = client.session
    session["reauth_at"] = (timezone.now() - timedelta(minutes=settings.REAUTH_MINUTES + 1)).isoformat()
    session.save()
    assert client.get("/accounts/identity/")["Location"].startswith("/accounts/confirm-password/")


def test_identity_page_verifies_and_then_shows_it_masked(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    response = client.post("/accounts/identity/", {"real_name": "张三", "id_number": "110105199003071239"})
    assert response["Location"] == "/accounts/identity/"
    page = client.get("/accounts/identity/").content.decode()
    assert "110***********1239" in page and "110105199003071239" not in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"real_name": "张三", "id_number": "110105201001014564"}, "18 years"),
        ({"real_name": "张三", "id_number": "x" * 10_000}, "at most"),
        ({"real_name": "<b>张三</b>", "id_number": "110105199003071239"}, "exactly as on your ID card"),
        ({"real_name": "", "id_number": ""}, "required"),
    ],
)
def test_identity_bad_input(sign_in, data, message):
    client = sign_in(BorrowerFactory())
    response = client.post("/accounts/identity/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and message in response.content.decode()
    assert not data["id_number"] or data["id_number"] not in response.content.decode()  # never echoed
    assert not Identity.objects.exists()


def test_identity_used_by_another_account_is_refused_on_the_form(sign_in):
    identity_verify(actor=BorrowerFactory(), real_name="张三", id_number="110105199003071239")
    client = sign_in(BorrowerFactory())
    response = client.post(
        "/accounts/identity/",
        {"real_name": "张三", "id_number": "110105199003071239"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "another account" in response.content.decode()


def test_password_change_keeps_this_session_and_ends_others(client, sign_in, django_user_model):
    from django.test import Client

    borrower = BorrowerFactory()
    other = Client()
    other.force_login(borrower)
    sign_in(borrower)
    data = {
        "old_password": "borrower-pass-123",
        "new_password1": "Changed-pass-77",
        "new_password2": "Changed-pass-77",
    }
    response = client.post("/accounts/password/change/", data)
    assert response["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200
    assert other.get("/accounts/").status_code == 302


def test_password_change_with_a_wrong_old_password(sign_in):
    client = sign_in(BorrowerFactory())
    data = {"old_password": "nope", "new_password1": "Changed-pass-77", "new_password2": "Changed-pass-77"}
    response = client.post("/accounts/password/change/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "The password is wrong." in response.text
    assert "mobile number" not in response.text


def test_a_new_password_equal_to_the_current_one_is_refused(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    same = {
        "old_password": "borrower-pass-123",
        "new_password1": "borrower-pass-123",
        "new_password2": "borrower-pass-123",
    }
    response = client.post("/accounts/password/change/", same, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "same as the current one" in response.text
    borrower.refresh_from_db()
    assert not AuditEvent.objects.filter(action="password.changed").exists()


def test_security_page_lists_own_events_masked_and_paginated(sign_in, deliver):
    borrower = BorrowerFactory(phone="+8613912345678")
    someone_else = BorrowerFactory()
    from accounts.services import account_freeze

    account_freeze(actor=someone_else, user=someone_else, reason="theirs")
    client = sign_in(borrower)
    for _ in range(25):
        client.post("/accounts/confirm-password/", {"password": "borrower-pass-123"})
    first = client.get("/accounts/security/")
    assert len(first.context["page"]) == 20 and first.context["page"].paginator.count == 25
    assert client.get("/accounts/security/?page=2").context["page"].number == 2
    assert "theirs" not in first.content.decode()


def test_this_wasnt_me_freezes_and_ends_other_sessions(client, sign_in):
    from django.test import Client

    borrower = BorrowerFactory()
    other = Client()
    other.force_login(borrower)
    sign_in(borrower)
    assert client.post("/accounts/security/freeze/")["Location"] == "/accounts/security/"
    borrower.refresh_from_db()
    assert borrower.is_frozen
    assert client.get("/accounts/security/").status_code == 200
    assert other.get("/accounts/").status_code == 302


def test_notifications_inbox_count_and_mark_read(sign_in):
    borrower = BorrowerFactory()
    notification_create(user=borrower, kind="password_changed")
    notification_create(user=BorrowerFactory(), kind="password_changed")  # someone else's
    client = sign_in(borrower)
    page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en")
    assert len(page.context["items"]) == 1
    assert 'class="badge"' in page.content.decode()
    client.post("/notifications/read/")
    assert Notification.objects.get(user=borrower).read_at is not None
    assert 'class="badge"' not in client.get("/notifications/").content.decode()


def test_the_unread_count_on_the_user_row_follows_the_inbox(sign_in):
    from accounts.services import notifications_mark_read

    borrower = BorrowerFactory()
    for _ in range(2):
        notification_create(user=borrower, kind="password_changed")
    borrower.refresh_from_db()
    assert borrower.unread_notifications == 2
    assert (
        '<span class="badge" aria-label="2 unread">2</span>'
        in sign_in(borrower).get("/cards/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    chinese = sign_in(borrower).get("/cards/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert chinese.count('<span class="badge" aria-label="2 条未读">2</span>') == 2  # header and tab bar
    history = borrower.history.count()
    notifications_mark_read(actor=borrower)
    notification_create(user=borrower, kind="password_changed")
    borrower.refresh_from_db()
    unread = Notification.objects.filter(user=borrower, read_at__isnull=True).count()
    assert borrower.unread_notifications == unread == 1
    assert borrower.history.count() == history  # the count is not a change of the account


def test_switching_language_remembers_it_for_later_texts(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/"})
    assert response["Location"] == "/accounts/"
    borrower.refresh_from_db()
    assert borrower.language == "en"
    assert AuditEvent.objects.get(action="user.language_set").data == {"language": "en"}


def test_the_dev_sms_page_exists_only_with_debug(client, settings, deliver):
    from accounts.services import sms_code_send

    with deliver():
        sms_code_send(purpose="register", target="+8613800138000", phone="+8613800138000")
    assert client.get("/dev/sms/").status_code == 404
    settings.DEBUG = True
    page = client.get("/dev/sms/").content.decode()
    assert "138****8000" in page and "13800138000" not in page
    assert f'href="{settings.BANK_HTTP_URL}/sms/"' in page  # the bank texts its own codes


def test_the_security_log_shows_the_borrowers_devices_readably_and_no_staff_trail(sign_in):
    from django.db import transaction

    from accounts.tests.factories import StaffFactory
    from audit.actions import Action
    from audit.context import RequestContext, bound_request
    from audit.services import record

    borrower = BorrowerFactory()
    officer = StaffFactory()
    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
    office = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    with bound_request(RequestContext("r1", "203.0.113.7", android)), transaction.atomic():
        record(action=Action.REAUTH_SUCCEEDED, actor=borrower, subject=borrower)
    with bound_request(RequestContext("r2", "198.51.100.99", office)), transaction.atomic():
        record(action=Action.PERSONAL_DATA_VIEWED, actor=officer, subject=borrower)
        record(action=Action.ACCOUNT_UNFROZEN, actor=officer, subject=borrower)
    # A sign-in code asked for before signing in: where it was asked from, not "by the platform".
    with bound_request(RequestContext("r3", "192.0.2.44", android)), transaction.atomic():
        record(action=Action.SMS_CODE_SENT, actor=None, subject=borrower)

    page = sign_in(borrower).get("/accounts/security/", HTTP_ACCEPT_LANGUAGE="en").text

    assert "Chrome Mobile on Android 14" in page and "Mozilla/5.0" not in page and "203.0.113.7" in page
    assert "192.0.2.44" in page and "by the platform" not in page
    assert "Account unfrozen" in page and "by our compliance team" in page
    assert "198.51.100.99" not in page and "Windows" not in page  # the officer's address and browser
    assert "opened in the back office" not in page


def test_the_lost_phone_form_does_not_echo_the_id_number_after_an_error(client):
    borrower = BorrowerFactory()
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    details = {
        "phone": borrower.phone.national_number,
        "password": "wrong-password",
        "real_name": "张三",
        "id_number": "110105199003071239",
        "new_phone": "13900139001",
    }
    page = client.post("/accounts/phone/lost/", details, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="id_number"' in page and "110105199003071239" not in page
