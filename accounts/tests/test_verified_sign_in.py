"""The verified sign-in read in one query (accounts.middleware): the same answer as Django's and
django-otp's own way, and every event that ends sessions still ends them on the next request."""

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.middleware import VerifiedSignInMiddleware
from accounts.models import PhoneChange, User
from accounts.services import account_freeze
from accounts.services.codes import login_device
from accounts.services.passwords import password_change
from accounts.services.phone_change import phone_number_apply
from accounts.tests.factories import BorrowerFactory, StaffFactory, issue_backup_code
from api.services import sessions_end_all
from lending.crypto import encrypt
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


def ended(client) -> bool:
    user, _ = signed_in_user(client)
    return not user.is_authenticated and not getattr(user, "is_verified", lambda: False)()


def test_a_freeze_ends_the_session(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    account_freeze(actor=None, user=borrower, reason="suspected fraud")
    assert ended(client)


def test_a_password_change_ends_other_sessions(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    password_change(actor=borrower, new_password="another-pass-456")
    assert ended(client)


def test_a_phone_change_ends_the_session(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    change = PhoneChange.objects.create(
        user=borrower,
        status=PhoneChange.Status.NEW_SENT,
        old_phone_masked="x",
        new_phone_encrypted=encrypt("+8613900139001"),
    )
    with transaction.atomic():
        phone_number_apply(
            user=User.objects.select_for_update().get(pk=borrower.pk), change=change, reason="t"
        )
    assert ended(client)


def test_signing_out_ends_the_session(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    client.post("/accounts/logout/")
    assert ended(client)


def test_signing_out_everywhere_and_revoking_app_tokens_ends_the_session(sign_in):
    borrower = BorrowerFactory()
    client = sign_in(borrower)
    sessions_end_all(actor=borrower)
    assert ended(client)


def test_a_closure_request_ends_the_session(sign_in, privacy_code):  # noqa: F811
    borrower = BorrowerFactory(password="borrower-pass-123")
    client = sign_in(borrower)
    code = privacy_code(client, borrower, "close")
    account_closure_request(actor=borrower, password="borrower-pass-123", code=code)
    assert ended(client)


def test_a_completed_closure_leaves_no_session(sign_in, privacy_code):  # noqa: F811
    borrower = BorrowerFactory(password="borrower-pass-123")
    client = sign_in(borrower)
    closure = account_closure_request(
        actor=borrower, password="borrower-pass-123", code=privacy_code(client, borrower, "close")
    )
    client = sign_in(User.objects.get(pk=borrower.pk))  # a session begun after the request
    with transaction.atomic():
        _close_account(User.objects.select_for_update().get(pk=borrower.pk), closure, "closed")
    assert ended(client)
