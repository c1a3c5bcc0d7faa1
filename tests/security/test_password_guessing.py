"""Guessing a staff password at /admin/login/, as the outside test did (issue 18, finding 2):
40 wrong passwords in a row, then the right one. Only the first LOGIN_MAX_FAILURES are checked
at all, the right one is refused, and every try is in the audit trail."""

from unittest import mock

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import StaffFactory, issue_backup_code
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_forty_wrong_staff_passwords_lock_the_account_and_all_are_audited(settings):
    staff = StaffFactory(role="officer")
    attacker = Client(REMOTE_ADDR="203.0.113.40")
    device, code = issue_backup_code(staff)
    check_password = User.check_password

    with mock.patch.object(User, "check_password", autospec=True, side_effect=check_password) as checked:
        for n in range(40):
            attacker.post("/admin/login/", {"username": staff.username, "password": f"guess-{n}"})
        right = {
            "username": staff.username,
            "password": "staff-pass-123",
            "otp_device": device,
            "otp_token": code,
        }
        response = attacker.post("/admin/login/", right)

    assert response.status_code == 200 and attacker.get("/admin/").status_code == 302
    assert checked.call_count == settings.LOGIN_MAX_FAILURES
    trail = list(AuditEvent.objects.order_by("id").values_list("action", "ip"))
    wrong = settings.LOGIN_MAX_FAILURES - 1
    expected = (
        ["login.password_failed"] * wrong + ["login.locked"] + ["login.refused_locked"] * (41 - wrong - 1)
    )
    assert [action for action, _ip in trail] == expected
    assert {ip for _action, ip in trail} == {"203.0.113.40"}
