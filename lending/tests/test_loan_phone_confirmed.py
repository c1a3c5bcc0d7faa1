"""No loan is disbursed while the carrier has not confirmed the account phone in the borrower's
name (LOAN_NEEDS_CONFIRMED_PHONE), through the real SDK against the FaceID simulator."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import PhoneChange, PhoneCheck
from accounts.selectors import account_phone_check
from accounts.services import identity_verify
from accounts.services.phone_check import carrier_check, phone_check_record
from accounts.tests import identity_numbers as ids
from accounts.tests.factories import BorrowerFactory, StaffFactory
from lending.crypto import encrypt
from lending.models import Loan
from lending.services import LoanRefused

pytestmark = pytest.mark.django_db

OTHER_NAME = "+8613800130990"  # the simulator's carrier: in someone else's name
NO_RECORD = "+8613800130991"  # the simulator's carrier: no record


def verified(phone):
    user = BorrowerFactory(phone=phone)
    identity_verify(actor=user, real_name="张三", id_number=ids.MATCH)
    return user


@pytest.mark.parametrize(
    "phone, answer", [(OTHER_NAME, "Not in the borrower's name"), (NO_RECORD, "No record")]
)
def test_a_phone_the_carrier_does_not_confirm_refuses_the_loan(bind, make_loan, faceid, phone, answer):
    user = verified(phone)
    bind(user)
    with pytest.raises(LoanRefused, match=answer) as refused:
        make_loan(user)
    assert refused.value.code == "phone_unconfirmed"
    assert "138****0990" in refused.value.message or "138****0991" in refused.value.message
    assert not Loan.objects.exists()


def test_a_carrier_that_did_not_answer_refuses_the_loan(bind, make_loan, faceid):
    user = verified("+8613800138000")
    bind(user)
    with transaction.atomic():  # asked again while the provider is down: no answer is no confirmation
        result = carrier_check(name="张三", id_number=ids.DOWN, phone=user.phone)
        assert result is None
        phone_check_record(user=user, purpose=PhoneCheck.Purpose.IDENTITY, phone=user.phone, result=result)
    with pytest.raises(LoanRefused, match="Not checked: the provider did not answer"):
        make_loan(user)


def test_the_check_of_the_number_bound_last_counts(bind, make_loan, faceid):
    user = verified("+8613800138000")
    bind(user)
    assert account_phone_check(user).outcome == "match"
    # an officer let the borrower change to a number in someone else's name
    change = PhoneChange.objects.create(
        user=user,
        status="completed",
        old_phone_masked=user.masked_phone,
        new_phone_encrypted=encrypt(OTHER_NAME),
        new_phone_masked="138****0990",
        completed_at=timezone.now(),
    )
    with transaction.atomic():
        result = carrier_check(name="张三", id_number=ids.MATCH, phone=OTHER_NAME)
        phone_check_record(
            user=user,
            purpose=PhoneCheck.Purpose.PHONE_CHANGE,
            phone=OTHER_NAME,
            result=result,
            phone_change=change,
        )
    assert account_phone_check(user).outcome == "mismatch"
    with pytest.raises(LoanRefused, match="not confirmed"):
        make_loan(user)


def test_a_phone_change_never_checked_refuses_the_loan(bind, make_loan, faceid):
    user = verified("+8613800138000")
    bind(user)
    PhoneChange.objects.create(  # after the identity's check (which was of the number before it)
        user=user, status="completed", old_phone_masked="x", completed_at=timezone.now()
    )
    assert account_phone_check(user) is None
    with pytest.raises(LoanRefused, match="never checked"):
        make_loan(user)


def test_without_the_setting_an_unconfirmed_phone_gets_the_loan(bind, make_loan, faceid, settings):
    settings.LOAN_NEEDS_CONFIRMED_PHONE = False
    user = verified(OTHER_NAME)
    bind(user)
    assert make_loan(user).principal == Decimal("3000.00")


def test_the_back_office_says_why(admin_login, bind, faceid):
    user = verified(OTHER_NAME)
    bind(user)
    client = admin_login(StaffFactory(role="officer"))
    form = {
        "phone": "13800130990",
        "product": "phone",
        "principal": "3000",
        "annual_rate_percent": "12",
        "term_months": "6",
    }
    page = client.post("/admin/lending/loan/add/", form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "is not confirmed in the borrower&#x27;s name by the carrier" in page
    assert "Not in the borrower&#x27;s name" in page and "13800130990" not in page.replace(
        'value="13800130990"', ""
    )
    assert not Loan.objects.exists()


def test_beat_asks_again_about_a_phone_the_carrier_did_not_answer_for(bind, make_loan, faceid, settings):
    from accounts.tasks import recheck_account_phones
    from audit.models import AuditEvent

    settings.ACCOUNT_PHONE_RECHECK_MINUTES = 0
    user = verified("+8613800138000")
    settled = BorrowerFactory(phone="+8613700137000")  # the carrier said yes: never asked again
    identity_verify(actor=settled, real_name="李四", id_number="110105199003072012")
    bind(user)
    with transaction.atomic():
        phone_check_record(
            user=user,
            purpose=PhoneCheck.Purpose.IDENTITY,
            phone=user.phone,
            result=carrier_check(name="张三", id_number=ids.DOWN, phone=user.phone),
        )
    with pytest.raises(LoanRefused):
        make_loan(user)
    asked_before = len(faceid.calls("PhoneVerification"))

    assert recheck_account_phones() == 1
    check = account_phone_check(user)
    assert (check.purpose, check.outcome) == ("account_phone", "match")
    assert len(faceid.calls("PhoneVerification")) == asked_before + 1
    event = AuditEvent.objects.get(action="phone_check.account_phone")
    assert (event.actor_label, event.subject_id, event.data["outcome"]) == (
        "account-phone-recheck",
        str(user.pk),
        "match",
    )
    assert event.data["phone"] == "138****8000" and account_phone_check(settled).purpose == "identity"
    assert make_loan(user).principal == Decimal("3000.00")
    assert recheck_account_phones() == 0  # settled now


def test_no_answer_again_changes_nothing_but_the_record(faceid, settings):
    from accounts.services.phone_check import account_phone_recheck
    from accounts.tests.helpers import identity_row

    settings.ACCOUNT_PHONE_RECHECK_MINUTES = 0
    user = BorrowerFactory(phone="+8613800138000")
    identity_row(user, ids.SLOW)  # the provider answers too late for this number now
    with transaction.atomic():
        phone_check_record(user=user, purpose=PhoneCheck.Purpose.IDENTITY, phone=user.phone, result=None)
    check = account_phone_recheck(user_id=user.pk)
    assert (check.purpose, check.outcome) == ("account_phone", "unavailable")
    assert account_phone_check(user) == check
