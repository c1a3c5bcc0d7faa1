import pytest
from django.test import Client

from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory, StaffFactory, issue_backup_code
from cards.tests.conftest import action_code, bind, borrower  # noqa: F401


@pytest.fixture
def other_borrower():
    user = BorrowerFactory(phone="+8613900139000")
    identity_verify(actor=user, real_name="李四", id_number="310101198506152345")
    return user


@pytest.fixture
def support_user():
    return StaffFactory(username="helper", role="support", email="helper@example.com")


@pytest.fixture
def back_office():
    """A second browser, signed in to the back office as ``user`` (OTP login)."""

    def login(user, password="staff-pass-123"):
        client = Client()
        device, code = issue_backup_code(user)
        response = client.post(
            "/admin/login/",
            {"username": user.username, "password": password, "otp_device": device, "otp_token": code},
        )
        assert response.status_code == 302, response.content[:500]
        return client

    return login
