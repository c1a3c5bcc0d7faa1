"""Registration, two-step sign-in, tokens and the rules that end them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.policies import current_policy
from accounts.services import account_freeze, password_change
from accounts.tests.factories import BorrowerFactory
from api.models import DeviceToken
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
PASSWORD = "borrower-pass-123"
DEVICE = {"device_id": "ios-1", "device_name": "iPhone 15"}


def sign_in(api, deliver, last_code, user):
    with deliver():
        started = api.post("/auth/sign-in", {"phone": str(user.phone), "password": PASSWORD, **DEVICE})
    assert started.status_code == 200, started.json()
    ticket = started.json()["ticket"]
    return ticket, last_code(user.phone)


def test_sign_in_makes_a_token_only_after_the_sms_code(api, deliver, last_code):
    user = BorrowerFactory()
    ticket, code = sign_in(api, deliver, last_code, user)
    assert DeviceToken.objects.count() == 0  # the password alone makes no token
    answer = api.post("/auth/sign-in/verify", {"ticket": ticket, "code": code})
    assert answer.status_code == 201
    body = answer.json()
    token = DeviceToken.objects.get()
    assert (token.user, token.device_name, token.device_id) == (user, "iPhone 15", "ios-1")
    assert body["token"] not in (token.token_hash, "") and body["token"].startswith("dt_")
    assert AuditEvent.objects.filter(action="device_token.created").count() == 1
    api.token = body["token"]
    me = api.get("/me")
    assert me.status_code == 200 and me.json()["phone"] == user.masked_phone


def test_sign_in_refusals(api, deliver, last_code):
    user = BorrowerFactory()
    wrong = api.post("/auth/sign-in", {"phone": str(user.phone), "password": "nope-nope", **DEVICE})
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "wrong"
    assert wrong["Content-Type"] == "application/problem+json"
    ticket, code = sign_in(api, deliver, last_code, user)
    bad_code = "000000" if code != "000000" else "111111"
    refused = api.post("/auth/sign-in/verify", {"ticket": ticket, "code": bad_code})
    assert refused.status_code == 422 and refused.json()["code"] == "code_refused"
    unknown = api.post("/auth/sign-in/verify", {"ticket": "st_nothing", "code": code})
    assert unknown.status_code == 422 and unknown.json()["code"] == "sign_in_expired"
    assert DeviceToken.objects.count() == 0
    invalid = api.post("/auth/sign-in", {"phone": "12", "password": "x", **DEVICE})
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid"
    assert "phone" in invalid.json()["errors"]


def test_sign_in_ticket_expires(api, deliver, last_code, time_machine):
    user = BorrowerFactory()
    ticket, code = sign_in(api, deliver, last_code, user)
    time_machine.move_to(timezone.now() + timedelta(minutes=11))
    late = api.post("/auth/sign-in/verify", {"ticket": ticket, "code": code})
    assert late.status_code == 422 and late.json()["code"] == "sign_in_expired"


def test_registration_opens_the_account_and_signs_the_device_in(api, deliver, last_code):
    with deliver():
        sent = api.post("/auth/register", {"phone": "13912345678"})
    assert sent.status_code == 200 and sent.json()["phone"] != "+8613912345678"
    policy = current_policy("privacy", "en")
    body = {
        "phone": "13912345678",
        "code": last_code("+8613912345678"),
        "password": "a-long-new-passw0rd",
        "password_again": "a-long-new-passw0rd",
        "privacy_version": policy.version,
        "privacy_sha256": policy.sha256,
        "accept_privacy": True,
        **DEVICE,
    }
    opened = api.post("/auth/register/complete", body)
    assert opened.status_code == 201, opened.json()
    user = User.objects.get(phone="+8613912345678")
    assert DeviceToken.objects.get().user == user
    assert user.consents.count() == 1
    again = api.post("/auth/register/complete", body)
    assert again.status_code == 422


def test_registration_refuses_without_consent(api, deliver, last_code):
    with deliver():
        api.post("/auth/register", {"phone": "13912345679"})
    body = {
        "phone": "13912345679",
        "code": last_code("+8613912345679"),
        "password": "a-long-new-passw0rd",
        "password_again": "a-long-new-passw0rd",
        "privacy_version": "x",
        "privacy_sha256": "y",
        "accept_privacy": False,
        **DEVICE,
    }
    refused = api.post("/auth/register/complete", body)
    assert refused.status_code == 422 and "accept_privacy" in refused.json()["errors"]
    assert not User.objects.filter(phone="+8613912345679").exists()


def test_a_token_is_never_read_from_a_cookie(api_as, api, client, sign_in):
    user = BorrowerFactory()
    secret = api_as(user).token
    for name in ("Authorization", "token", "access_token"):
        client.cookies[name] = secret
        assert api.get("/me").status_code == 401
        client.cookies[name] = f"Bearer {secret}"
        assert api.get("/me").status_code == 401
    sign_in(user)  # a web session's cookie does not open the API either
    answer = api.get("/me")
    assert answer.status_code == 401 and answer.json()["code"] == "not_authenticated"
    assert answer["WWW-Authenticate"] == "Bearer"


def test_sign_out_ends_the_token(api_as):
    user = BorrowerFactory()
    app = api_as(user)
    assert app.post("/auth/sign-out").status_code == 200
    assert app.get("/me").status_code == 401
    assert AuditEvent.objects.filter(action="device_token.revoked").count() == 1


def test_devices_listed_and_revoked_one_by_one_and_all_at_once(api_as):
    user = BorrowerFactory()
    phone, tablet, laptop = (api_as(user, f"d{n}", f"Device {n}") for n in range(3))
    listed = phone.get("/devices").json()["items"]
    assert [(item["device_name"], item["current"]) for item in listed] == [
        ("Device 2", False),
        ("Device 1", False),
        ("Device 0", True),
    ]
    tablet_id = listed[1]["id"]
    assert phone.post(f"/devices/{tablet_id}/revoke").status_code == 200
    assert tablet.get("/me").status_code == 401
    assert laptop.get("/me").status_code == 200
    assert phone.post("/devices/revoke-all").status_code == 200
    assert laptop.get("/me").status_code == 401 and phone.get("/me").status_code == 401


def test_a_device_signing_in_again_ends_its_old_token(api_as):
    user = BorrowerFactory()
    first = api_as(user, "same", "Phone")
    second = api_as(user, "same", "Phone")
    assert first.get("/me").status_code == 401 and second.get("/me").status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        lambda user: password_change(actor=user, new_password="another-passw0rd-9"),
        lambda user: account_freeze(actor=user, user=user, reason="test"),
    ],
    ids=["password change on the web", "freeze on the web"],
)
def test_rules_that_end_web_sessions_end_tokens(api_as, rule):
    user = BorrowerFactory()
    app = api_as(user)
    rule(User.objects.get(pk=user.pk))
    assert app.get("/me").status_code == 401
    assert app.get("/devices").status_code == 401


def test_the_caller_keeps_its_token_when_it_changes_the_password_or_freezes(api_as):
    user = BorrowerFactory()
    app, other = api_as(user, "a", "A"), api_as(user, "b", "B")
    body = {
        "old_password": PASSWORD,
        "new_password": "another-passw0rd-9",
        "new_password_again": "another-passw0rd-9",
    }
    assert app.post("/password", body).status_code == 200
    assert app.get("/me").status_code == 200 and other.get("/me").status_code == 401
    third = api_as(User.objects.get(pk=user.pk), "c", "C")
    assert app.post("/security/freeze").status_code == 200
    assert app.get("/me").json()["frozen"] is True
    assert third.get("/me").status_code == 401


def test_sign_out_everywhere_ends_web_sessions_and_every_token(api_as, sign_in):
    user = BorrowerFactory()
    app, other = api_as(user, "a", "A"), api_as(user, "b", "B")
    web = sign_in(user)
    assert web.get("/accounts/").status_code == 200
    assert app.post("/auth/sign-out-everywhere").status_code == 200
    assert app.get("/me").status_code == 401 and other.get("/me").status_code == 401
    assert web.get("/accounts/").status_code == 302


def test_idle_and_absolute_lifetimes(api_as, settings, time_machine):
    settings.API_TOKEN_IDLE_DAYS, settings.API_TOKEN_MAX_DAYS = 30, 90
    user = BorrowerFactory()
    idle = api_as(user, "idle", "Idle")
    busy = api_as(user, "busy", "Busy")
    start = timezone.now()
    for day in range(1, 92, 20):  # used every 20 days: never idle, but 90 days is the end
        time_machine.move_to(start + timedelta(days=day))
        assert busy.get("/me").status_code == 200, day
    assert idle.get("/me").status_code == 401
    time_machine.move_to(start + timedelta(days=91))
    assert busy.get("/me").status_code == 401


def test_sensitive_steps_need_the_password_again(api_as, time_machine):
    user = BorrowerFactory()
    app = api_as(user)
    time_machine.move_to(timezone.now() + timedelta(minutes=11))
    refused = app.post("/phone-change")
    assert refused.status_code == 403 and refused.json()["code"] == "reauth_required"
    wrong = app.post("/auth/reauth", {"password": "not-it"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong"
    assert app.post("/auth/reauth", {"password": PASSWORD}).status_code == 200
    assert app.post("/phone-change").status_code == 201


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    """The request counts in the test's own cache, and in Redis as in production."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
    from django.core.cache import caches

    caches["default"].clear()
    return request.param


def test_requests_per_token_are_limited(api_as, settings, shared_cache):
    settings.API_TOKEN_REQUESTS_PER_MINUTE = 3
    app = api_as(BorrowerFactory())
    answers = [app.get("/me").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = app.get("/me")
    assert limited.json()["code"] == "too_many_requests" and int(limited["Retry-After"]) >= 1


def test_the_security_page_lists_devices_and_signs_them_out(api_as, sign_in):
    user = BorrowerFactory()
    phone = api_as(user, "p", "Huawei Mate 60")
    web = sign_in(user)
    page = web.get("/accounts/security/")
    assert "Huawei Mate 60" in page.content.decode()
    token = DeviceToken.objects.get()
    assert web.post(f"/accounts/security/devices/{token.pk}/revoke/").status_code == 302
    assert phone.get("/me").status_code == 401
    assert "Huawei Mate 60" in web.get("/accounts/security/").content.decode()  # the message, once
    assert "Huawei Mate 60" not in web.get("/accounts/security/").content.decode()
    other = api_as(User.objects.get(pk=user.pk), "q", "Tablet")
    assert web.post("/accounts/security/devices/revoke-all/").status_code == 302
    assert other.get("/me").status_code == 401
    third = api_as(User.objects.get(pk=user.pk), "r", "Laptop")
    assert web.post("/accounts/security/devices/sign-out-everywhere/").status_code == 302
    assert third.get("/me").status_code == 401
    assert web.get("/accounts/").status_code == 302


def test_password_reset_ends_every_token(api, api_as, deliver, last_code):
    user = BorrowerFactory()
    app = api_as(user)
    with deliver():
        sent = api.post("/auth/password-reset", {"phone": str(user.phone)})
    assert sent.status_code == 200
    with deliver():
        unknown = api.post("/auth/password-reset", {"phone": "13700001111"})
    assert unknown.status_code == 200  # the same answer for a number without an account
    body = {"phone": str(user.phone), "code": last_code(user.phone), "new_password": "fresh-passw0rd-7"}
    mismatch = api.post("/auth/password-reset/complete", {**body, "new_password_again": "other-passw0rd-7"})
    assert mismatch.status_code == 422 and "new_password_again" in mismatch.json()["errors"]
    done = api.post("/auth/password-reset/complete", {**body, "new_password_again": "fresh-passw0rd-7"})
    assert done.status_code == 200, done.json()
    assert app.get("/me").status_code == 401
