from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.services import CodeRefused, LoginRefused, login_second_factor_verify, password_check
from accounts.services.login import LockoutLiftRefused, login_lockout_lift
from accounts.tests.factories import BorrowerFactory, StaffFactory
from accounts.tests.helpers import Purpose, send_code, wrong
from audit.context import RequestContext, bound_request
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "borrower-pass-123"


def check(phone, password=PASSWORD, ip="198.51.100.1"):
    with bound_request(RequestContext(request_id="t", ip=ip)):
        return password_check(phone=phone, password=password)


def test_the_right_password_passes_the_first_factor_only():
    borrower = BorrowerFactory()
    assert check(borrower.phone) == borrower
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()


def test_unknown_numbers_and_wrong_passwords_get_the_same_refusal():
    borrower = BorrowerFactory()
    with pytest.raises(LoginRefused) as wrong_password:
        check(borrower.phone, "nope")
    with pytest.raises(LoginRefused) as unknown:
        check("+8613911112222")
    assert wrong_password.value.message == unknown.value.message
    assert AuditEvent.objects.filter(action="login.password_failed").count() == 2


def test_staff_cannot_sign_in_to_the_portal():
    staff = StaffFactory()
    with pytest.raises(LoginRefused):
        password_check(phone=None, user=None, password="staff-pass-123")
    assert staff.phone is None


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(settings):
    borrower = BorrowerFactory()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LoginRefused, match="wrong"):
            check(borrower.phone, "nope")
    with pytest.raises(LoginRefused, match="locked") as refused:
        check(borrower.phone)
    assert refused.value.code == "locked"
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["login.password_failed"] * 4 + ["login.locked", "login.refused_locked"]


def test_the_lock_lifts_after_the_lockout_time(settings):
    borrower = BorrowerFactory()
    earlier = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)
    with time_machine.travel(earlier):
        for _ in range(settings.LOGIN_MAX_FAILURES):
            with pytest.raises(LoginRefused):
                check(borrower.phone, "nope")
        with pytest.raises(LoginRefused, match="locked"):
            check(borrower.phone)
    assert check(borrower.phone) == borrower


def test_a_number_without_an_account_locks_alike(settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LoginRefused):
            check("+8613911112222", "nope")
    with pytest.raises(LoginRefused, match="locked"):
        check("+8613911112222")


def test_many_failures_from_one_ip_lock_that_ip(settings):
    settings.LOGIN_IP_MAX_FAILURES = 3
    for n in range(3):
        with pytest.raises(LoginRefused):
            check(f"+861391111000{n}", "nope", ip="192.0.2.7")
    borrower = BorrowerFactory()
    with pytest.raises(LoginRefused, match="locked"):
        check(borrower.phone, ip="192.0.2.7")
    assert check(borrower.phone, ip="192.0.2.8") == borrower


def test_the_second_factor_is_the_login_code(deliver, last_code):
    borrower = BorrowerFactory()
    send_code(deliver, Purpose.LOGIN, borrower.pk, borrower.phone, borrower)
    code = last_code(borrower.phone)
    with pytest.raises(CodeRefused):
        login_second_factor_verify(user=borrower, code=wrong(code))
    device = login_second_factor_verify(user=borrower, code=code)
    assert device.user == borrower
    assert AuditEvent.objects.filter(action="login.succeeded", actor=borrower).count() == 1


def test_a_success_resets_the_failure_count(settings, deliver, last_code):
    borrower = BorrowerFactory()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        with pytest.raises(LoginRefused):
            check(borrower.phone, "nope")
    send_code(deliver, Purpose.LOGIN, borrower.pk, borrower.phone, borrower)
    login_second_factor_verify(user=borrower, code=last_code(borrower.phone))
    with pytest.raises(LoginRefused, match="wrong"):
        check(borrower.phone, "nope")  # one failure since the success: not locked
    assert check(borrower.phone) == borrower


def test_an_administrator_lifts_a_lock_out_only_while_it_holds(settings):
    borrower, officer = BorrowerFactory(), StaffFactory(role="officer")
    with pytest.raises(LockoutLiftRefused):
        login_lockout_lift(actor=officer, user=borrower)
    assert not AuditEvent.objects.exists()  # nothing to lift: nothing recorded
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LoginRefused):
            check(borrower.phone, "nope")

    login_lockout_lift(actor=officer, user=borrower)

    assert check(borrower.phone) == borrower
    with pytest.raises(LockoutLiftRefused):
        login_lockout_lift(actor=officer, user=borrower)
    assert AuditEvent.objects.filter(action="login.unlocked", actor=officer).count() == 1
