"""The verified sign-in read in one query (accounts.middleware), or none where it is kept in Redis
(accounts.signin_cache): the same answer as Django's and django-otp's own way, and every event
that ends sessions still ends them on the next request, with sessions in the database and with
sessions and sign-ins kept in Redis."""

import pytest
import redis
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.middleware import VerifiedSignInMiddleware
from accounts.models import PhoneChange, SmsCode, User
from accounts.notifications import TEXTS
from accounts.services import account_freeze
from accounts.services.codes import login_device
from accounts.services.notifications import notification_create, notifications_mark_read
from accounts.services.passwords import password_change
from accounts.services.phone_change import phone_number_apply
from accounts.signin_cache import Lookup
from accounts.tests.factories import BorrowerFactory, StaffFactory, issue_backup_code
from api.services import sessions_end_all
from lending import sessions
from lending.crypto import encrypt, seal
from privacy.services.closure import _close_account, account_closure_request
from privacy.tests.conftest import privacy_code  # noqa: F401

pytestmark = pytest.mark.django_db


def signed_in_user(client):
    """``request.user`` as the middleware chain gives it for the client's session, and the
    number of queries reading it took (the session itself read before)."""
    request = RequestFactory().get("/")
    request.session = client.session
    request.session.keys()  # read and kept: only what follows is counted
    AuthenticationMiddleware(lambda r: None).process_request(request)
    VerifiedSignInMiddleware(lambda r: None)._install_lazy_accessors(request)
    with CaptureQueriesContext(connection) as captured:
        user = request.user
        user.is_authenticated  # noqa: B018 (evaluates the lazy user)
    return user, len(captured)


def test_a_verified_borrower_is_read_with_the_device_in_one_query(sign_in):
    borrower = BorrowerFactory()
    user, queries = signed_in_user(sign_in(borrower))
    assert (user.pk, user.is_verified(), user.otp_device, queries) == (
        borrower.pk,
        True,
        login_device(borrower),
        1,
    )


def test_a_session_without_a_device_is_signed_in_but_not_verified(client):
    borrower = BorrowerFactory()
    client.force_login(borrower, backend="django.contrib.auth.backends.ModelBackend")
    user, _ = signed_in_user(client)
    assert user.pk == borrower.pk and not user.is_verified()


def test_another_users_device_does_not_verify_the_session(sign_in):
    borrower, other = BorrowerFactory(), BorrowerFactory()
    client = sign_in(borrower)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = login_device(other).persistent_id
    session.save()
    user, _ = signed_in_user(client)
    assert user.pk == borrower.pk and not user.is_verified()


def test_an_officer_verified_by_another_device_takes_django_otps_way():
    officer = StaffFactory(role="officer")
    client = Client()
    device, code = issue_backup_code(officer)
    client.post(
        "/admin/login/",
        {"username": officer.username, "password": "staff-pass-123", "otp_device": device, "otp_token": code},
    )
    user, _ = signed_in_user(client)
    assert user.pk == officer.pk and user.is_verified()


@pytest.fixture
def in_redis(settings, monkeypatch, redis_url):
    """Sessions read from Redis, and the sign-in kept there too (production's, lending/settings.py)."""
    settings.CACHES = {"default": {"BACKEND": "lending.cache.RedisCache", "LOCATION": redis_url}}
    settings.SESSION_ENGINE = "lending.sessions"
    settings.CACHE_RETRY_SECONDS = 0
    monkeypatch.setattr(sessions, "breaker", sessions.Breaker())
    return redis.Redis.from_url(redis_url)


@pytest.fixture(params=["database", "redis"])
def kept(request):
    """Where sessions are read from: the database, or Redis (``in_redis``). ``kept(client)`` reads
    the client's sign-in twice and checks that the second read came from where it is kept."""
    if request.param == "redis":
        request.getfixturevalue("in_redis")

    def read_twice(client):
        signed_in_user(client)
        user, queries = signed_in_user(client)
        assert user.is_verified() and queries == (0 if request.param == "redis" else 1)

    read_twice.where = request.param
    return read_twice


def ended(client) -> bool:
    user, _ = signed_in_user(client)
    return not user.is_authenticated and not getattr(user, "is_verified", lambda: False)()


def holding(client) -> Client:
    """Another browser presenting the client's session cookie, such as a copied one."""
    browser = Client()
    browser.cookies = client.cookies.__class__(client.cookies)
    return browser


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (as the end of a request's transaction would)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _deactivate(borrower) -> None:
    borrower.is_active = False
    borrower.save(update_fields=["is_active"])


ENDING = {
    "a freeze": lambda borrower: account_freeze(actor=None, user=borrower, reason="suspected fraud"),
    "a password change": lambda borrower: password_change(actor=borrower, new_password="another-pass-456"),
    "signing out everywhere and revoking app tokens": lambda borrower: sessions_end_all(actor=borrower),
    "deactivation": _deactivate,
}


@pytest.mark.parametrize("event", ENDING)
def test_each_event_that_ends_sessions_ends_this_one(event, sign_in, kept, committed):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    kept(client)
    with committed():
        ENDING[event](borrower)
    assert ended(client)


def test_a_phone_change_ends_the_session(sign_in, kept, committed):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    kept(client)
    change = PhoneChange.objects.create(
        user=borrower,
        status=PhoneChange.Status.NEW_SENT,
        old_phone_masked="x",
        new_phone_encrypted=encrypt("+8613900139001"),
    )
    with committed(), transaction.atomic():
        phone_number_apply(
            user=User.objects.select_for_update().get(pk=borrower.pk), change=change, reason="t"
        )
    assert ended(client)


def test_signing_out_ends_the_session(sign_in, kept, committed):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    kept(client)
    stolen = holding(client)
    with committed():
        client.post("/accounts/logout/")
    assert ended(stolen)
    assert ended(client)


def test_a_closure_request_ends_the_session(sign_in, privacy_code, kept, committed):  # noqa: F811
    borrower = BorrowerFactory(password="borrower-pass-123")
    client = sign_in(borrower)
    code = privacy_code(client, borrower, "close")
    kept(client)
    with committed():
        account_closure_request(actor=borrower, password="borrower-pass-123", code=code)
    assert ended(client)


def test_a_completed_closure_leaves_no_session(sign_in, privacy_code, kept, committed):  # noqa: F811
    borrower = BorrowerFactory(password="borrower-pass-123")
    client = sign_in(borrower)
    closure = account_closure_request(
        actor=borrower, password="borrower-pass-123", code=privacy_code(client, borrower, "close")
    )
    client = sign_in(User.objects.get(pk=borrower.pk))  # a session begun after the request
    kept(client)
    with committed(), transaction.atomic():
        _close_account(User.objects.select_for_update().get(pk=borrower.pk), closure, "closed")
    assert ended(client)


# What only the sign-in kept in Redis has to answer for (accounts/signin_cache.py).


def test_a_kept_sign_in_holds_no_phone_number_or_password_hash(sign_in, in_redis):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    signed_in_user(client)
    (key,) = in_redis.keys(f"*signin:{borrower.pk}")
    stored = in_redis.get(key)
    digits = str(borrower.phone).removeprefix("+86")
    assert stored and digits.encode() not in stored and borrower.password.encode() not in stored


def test_a_change_committed_while_the_rows_are_read_leaves_an_entry_never_used(sign_in, in_redis, committed):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    session = client.session
    session.keys()
    device = login_device(borrower)
    look = Lookup(session, borrower.pk, device.pk)
    assert look.found() is None  # no entry yet: the token is read (here made), then the rows
    read_before = SmsCode.objects.select_related("user").get(pk=device.pk)
    with committed():
        account_freeze(actor=None, user=borrower, reason="suspected fraud")
    look.keep(read_before)  # the rows as read before the freeze
    assert in_redis.keys(f"*signin:{borrower.pk}")  # stored, and
    assert ended(client)  # not used


def test_the_unread_count_is_fresh_after_a_notification_and_after_reading_them(sign_in, in_redis, committed):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    signed_in_user(client)
    with committed():
        notification_create(user=borrower, kind=next(iter(TEXTS)))
    assert signed_in_user(client)[0].unread_notifications == 1
    with committed():
        notifications_mark_read(actor=borrower)
    assert signed_in_user(client)[0].unread_notifications == 0


def test_a_deleted_login_device_no_longer_verifies_the_session(sign_in, in_redis, committed):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    signed_in_user(client)
    with committed():
        login_device(borrower).delete()
    user, _ = signed_in_user(client)
    assert user.pk == borrower.pk and not user.is_verified()


def test_an_entry_from_before_a_cache_outage_is_not_used(sign_in, in_redis):
    client = sign_in(BorrowerFactory())
    signed_in_user(client)
    assert signed_in_user(client)[1] == 0
    caches["default"].set(sessions.EPOCH_KEY, sessions.new_epoch(), None)  # what the first process back does
    assert signed_in_user(client)[1] == 1


def test_with_no_time_to_keep_it_the_sign_in_is_read_on_every_request(sign_in, in_redis, settings):
    settings.SIGNIN_CACHE_SECONDS = 0
    client = sign_in(BorrowerFactory())
    assert [signed_in_user(client)[1] for _ in range(2)] == [1, 1]


def test_an_entry_that_cannot_be_read_back_is_read_from_the_database(sign_in, in_redis):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    signed_in_user(client)
    key = f"signin:{borrower.pk}"
    entry = caches["default"].get(key)
    caches["default"].set(key, (*entry[:3], seal(b"another release's pickle")))
    user, queries = signed_in_user(client)
    assert user.is_verified() and queries == 1
