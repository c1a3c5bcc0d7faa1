"""The back office's password step locks like the borrowers' (accounts.services.login), and every
staff sign-in, failed or not, is in the audit trail."""

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import LoginRefused, password_check
from accounts.services.login import staff_password_check
from accounts.tests.factories import StaffFactory, issue_backup_code
from accounts.tests.test_admin import totp_token
from audit.context import RequestContext, bound_request
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "staff-pass-123"
IP = "198.51.100.9"
WRONG = "Please enter the correct username and password for a staff account."


def attempt(client, username, password=PASSWORD, *, ip=IP, **otp):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, **otp},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def with_backup_code(client, staff, password=PASSWORD, *, ip=IP):
    device, code = issue_backup_code(staff)
    return attempt(client, staff.username, password, ip=ip, otp_device=device, otp_token=code)


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def actions(**filters) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).order_by("id").values_list("action", flat=True))


def lock_out(client, staff, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = attempt(client, staff.username, "guess")
        assert response.status_code == 200 and WRONG in response.text


def test_wrong_passwords_lock_a_staff_account_even_for_the_right_one(client, settings):
    staff = StaffFactory(role="officer")
    lock_out(client, staff, settings)

    response = with_backup_code(client, staff)

    oldest = AuditEvent.objects.filter(action="login.password_failed").order_by("id").first()
    until = (oldest.occurred_at + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)).astimezone(
        ZoneInfo("Asia/Shanghai")
    )
    assert response.status_code == 200
    assert f"Signing in is locked until {until:%H:%M}." in response.text
    assert not signed_in(client)
    failures = ["login.password_failed"] * (settings.LOGIN_MAX_FAILURES - 1) + ["login.locked"]
    assert actions() == [*failures, "login.refused_locked"]
    for event in AuditEvent.objects.all():
        assert (event.subject_type, event.subject_id) == ("accounts.user", str(staff.pk))
        assert event.data == {"username": staff.username, "step": "back_office"}
        assert event.ip == IP and event.actor is None


def test_unknown_usernames_get_the_same_refusal_and_lock_alike(client, settings):
    """What was typed as a username is never stored: it may be a password or a phone number."""
    typed = "13912345678"
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = attempt(client, typed, "guess")
        assert response.status_code == 200 and WRONG in response.text

    response = attempt(client, typed, "guess")

    assert "Signing in is locked until" in response.text
    events = AuditEvent.objects.all()
    assert {(e.subject_type, str(e.data)) for e in events} == {("login.username", "{'step': 'back_office'}")}
    assert actions()[-2:] == ["login.locked", "login.refused_locked"]


def test_many_failures_from_one_ip_lock_that_ip_at_both_doors(client, settings):
    """One count per address for the portal and the back office."""
    settings.LOGIN_IP_MAX_FAILURES = 3
    attempt(client, "nobody", "guess", ip="192.0.2.7")
    attempt(client, "someone", "guess", ip="192.0.2.7")
    with bound_request(RequestContext(request_id="t", ip="192.0.2.7")), pytest.raises(LoginRefused):
        password_check(phone="+8613911110000", password="guess")
    staff = StaffFactory(role="officer")

    assert "Signing in is locked until" in with_backup_code(client, staff, ip="192.0.2.7").text
    assert not signed_in(client)
    assert with_backup_code(client, staff, ip="192.0.2.8").status_code == 302
    assert signed_in(client)


def test_an_administrator_lifts_the_lock_out(client, admin_login, settings):
    staff = StaffFactory(role="officer")
    lock_out(client, staff, settings)
    superuser = StaffFactory(is_superuser=True)
    administrator = admin_login(superuser)

    response = administrator.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "lift_lockout", "_selected_action": [staff.pk], "index": 0},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert f'<li class="success">{staff}: done.</li>'.lower() in response.text.lower()
    lifted = AuditEvent.objects.get(action="login.unlocked")
    assert (lifted.actor, lifted.subject_id) == (superuser, str(staff.pk))
    administrator.logout()
    assert with_backup_code(client, staff).status_code == 302
    assert signed_in(client)


def test_only_those_allowed_may_lift_a_lock_out(admin_login, settings):
    staff = StaffFactory(role="support")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LoginRefused):
            staff_password_check(username=staff.username, password="guess")
    officer = admin_login(StaffFactory(role="officer"))

    officer.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "lift_lockout", "_selected_action": [staff.pk], "index": 0},
    )

    assert not AuditEvent.objects.filter(action="login.unlocked").exists()
    with pytest.raises(LoginRefused) as refused:
        staff_password_check(username=staff.username, password=PASSWORD)
    assert refused.value.code == "locked"


def test_a_sign_in_with_a_backup_code_or_totp_is_audited(client):
    staff = StaffFactory(role="officer")
    assert with_backup_code(client, staff).status_code == 302
    client.logout()
    device = TOTPDevice.objects.create(user=staff, name="authenticator")
    otp = {"otp_device": device.persistent_id, "otp_token": totp_token(device)}
    assert attempt(client, staff.username, **otp).status_code == 302

    events = AuditEvent.objects.filter(action="login.succeeded").order_by("id")
    assert [e.data["factor"] for e in events] == ["backup_code", "totp"]
    assert {(e.actor, e.subject_id, e.ip) for e in events} == {(staff, str(staff.pk), IP)}


def test_a_wrong_second_factor_is_audited_and_django_otps_throttle_stays(client):
    staff = StaffFactory(role="officer")
    device = TOTPDevice.objects.create(user=staff, name="authenticator")
    with time_machine.travel(timezone.now(), tick=False):  # both tries inside django-otp's back-off
        right = totp_token(device)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        otp = {"otp_device": device.persistent_id}
        assert attempt(client, staff.username, **otp, otp_token=wrong).status_code == 200
        assert attempt(client, staff.username, **otp, otp_token=right).status_code == 200  # throttled

    assert not signed_in(client)
    events = AuditEvent.objects.filter(action="login.second_factor_failed").order_by("id")
    assert [e.data["reason"] for e in events] == ["wrong_code", "throttled"]
    assert {e.data["factor"] for e in events} == {"totp"}
    assert actions(action__startswith="login.password") == []  # the password was right


def test_a_wrong_backup_code_is_audited(client):
    staff = StaffFactory(role="officer")
    device, code = issue_backup_code(staff)

    response = attempt(client, staff.username, otp_device=device, otp_token="notacode")

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="login.second_factor_failed")
    assert event.data == {
        "username": staff.username,
        "step": "back_office",
        "factor": "backup_code",
        "reason": "wrong_code",
    }


def test_asking_for_the_second_factor_is_not_a_failure(client):
    staff = StaffFactory(role="officer")
    issue_backup_code(staff)
    assert attempt(client, staff.username).status_code == 200  # the form now asks for the code
    assert not AuditEvent.objects.exists()


def test_a_sign_in_resets_the_failure_count(client, settings):
    staff = StaffFactory(role="officer")
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        attempt(client, staff.username, "guess")
    assert with_backup_code(client, staff).status_code == 302
    client.logout()

    assert WRONG in attempt(client, staff.username, "guess").text  # one failure since: not locked
    assert with_backup_code(client, staff).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_simultaneous_guesses_do_not_slip_past_the_limit(settings):
    staff = StaffFactory()
    tries = 3 * settings.LOGIN_MAX_FAILURES
    start = threading.Barrier(tries)

    def guess():
        try:
            start.wait()
            staff_password_check(username=staff.username, password="guess")
        except LoginRefused:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    failures = ["login.password_failed"] * (settings.LOGIN_MAX_FAILURES - 1) + ["login.locked"]
    assert actions() == failures + ["login.refused_locked"] * (tries - settings.LOGIN_MAX_FAILURES)
