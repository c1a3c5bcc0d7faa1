from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Notification, PhoneChange, PhoneCheck, SmsCodeSend
from accounts.review_kinds import phone_other_name_summary
from accounts.selectors import last_phone_change_at
from accounts.services import (
    AccountFrozen,
    CodeRefused,
    PhoneChangeRefused,
    account_freeze,
    phone_change_cancel,
    phone_change_confirm_new,
    phone_change_confirm_old,
    phone_change_set_new,
    phone_change_start,
)
from accounts.tests.factories import BorrowerFactory, StaffFactory
from accounts.tests.helpers import wrong
from audit.models import AuditEvent, ReviewCase
from audit.services import review_case_decide
from conftest import free_port

pytestmark = pytest.mark.django_db

OLD, NEW = "+8613800138000", "+8613900139000"


@pytest.fixture
def borrower():
    return BorrowerFactory(phone=OLD)


def start(deliver, borrower):
    with deliver():
        return phone_change_start(actor=borrower)


def confirm_old(deliver, last_code, borrower):
    change = start(deliver, borrower)
    return phone_change_confirm_old(actor=borrower, change=change, code=last_code(borrower.phone))


def set_new(deliver, last_code, borrower, new=NEW):
    change = confirm_old(deliver, last_code, borrower)
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    with deliver():
        return phone_change_set_new(actor=borrower, change=change, new_phone=new)


def change_phone(deliver, last_code, borrower, new=NEW):
    change = set_new(deliver, last_code, borrower, new)
    with deliver():
        return phone_change_confirm_new(actor=borrower, change=change, code=last_code(new))


def test_the_whole_change(deliver, last_code, sms_outbox, borrower):
    epoch = borrower.session_epoch

    user = change_phone(deliver, last_code, borrower)

    assert str(user.phone) == NEW and user.session_epoch == epoch + 1
    change = PhoneChange.objects.get()
    assert change.status == PhoneChange.Status.COMPLETED
    assert (change.old_phone_masked, change.new_phone_masked) == ("138****8000", "139****9000")
    told = sms_outbox[-1]
    assert told.to == OLD and "139****9000" in told.body  # the old number is told
    assert Notification.objects.get(user=user, kind="phone_changed").params == {
        "old": "138****8000",
        "new": "139****9000",
    }
    changed = AuditEvent.objects.get(action="phone_change.completed")
    assert changed.data == {"old": "138****8000", "new": "139****9000"}
    assert user.history.latest().history_change_reason == "phone changed with the old phone (path a)"
    assert last_phone_change_at(user) == change.completed_at
    assert [
        a for a in AuditEvent.objects.order_by("id").values_list("action", flat=True) if a.startswith("phone")
    ] == [
        "phone_change.started",
        "phone_change.old_confirmed",
        "phone_change.new_number",
        "phone_change.completed",
    ]


def test_steps_cannot_be_skipped(deliver, last_code, borrower):
    change = start(deliver, borrower)
    with pytest.raises(PhoneChangeRefused, match="already done|Continue"):
        phone_change_set_new(actor=borrower, change=change, new_phone=NEW)
    with pytest.raises(PhoneChangeRefused):
        phone_change_confirm_new(actor=borrower, change=change, code=last_code(OLD))


def test_the_old_number_code_does_not_confirm_the_new_number(deliver, last_code, borrower):
    change = set_new(deliver, last_code, borrower)
    with pytest.raises(CodeRefused):
        phone_change_confirm_new(actor=borrower, change=change, code=wrong(last_code(NEW)))
    borrower.refresh_from_db()
    assert str(borrower.phone) == OLD


def test_a_number_bound_to_another_account_is_refused_only_after_its_code_came_back(
    deliver, last_code, sms_outbox, borrower
):
    BorrowerFactory(phone=NEW)
    change = set_new(deliver, last_code, borrower)  # answered like any number: a code goes to it
    assert change.status == "new_sent" and sms_outbox[-1].to == NEW
    with pytest.raises(PhoneChangeRefused) as refused:
        phone_change_confirm_new(actor=borrower, change=change, code=last_code(NEW))
    assert "139" not in refused.value.message and refused.value.code == "taken"
    assert AuditEvent.objects.get(action="phone_change.refused").data == {
        "new": "139****9000",
        "why": "taken",
    }
    borrower.refresh_from_db()
    assert str(borrower.phone) == OLD


def test_new_numbers_per_account_are_limited(settings, deliver, last_code, borrower):
    settings.PHONE_NEW_NUMBERS_PER_DAY = 2
    change = set_new(deliver, last_code, borrower, new="+8613900139001")
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    phone_change_set_new(actor=borrower, change=change, new_phone="+8613900139002")
    with pytest.raises(PhoneChangeRefused, match="Too many new numbers") as refused:
        phone_change_set_new(actor=borrower, change=change, new_phone="+8613900139003")
    assert refused.value.code == "too_many_numbers"
    assert AuditEvent.objects.filter(action="phone_change.refused", data__why="too_many_numbers").exists()
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
        assert set_new(deliver, last_code, borrower, new="+8613900139003").status == "new_sent"


def test_the_same_number_is_refused(deliver, last_code, borrower):
    with pytest.raises(PhoneChangeRefused, match="already your number"):
        set_new(deliver, last_code, borrower, new=OLD)


def test_at_most_three_changes_in_thirty_days(settings, deliver, last_code, borrower):
    numbers = ["+8613900139001", "+8613900139002", "+8613900139003"]
    for number in numbers:
        borrower = change_phone(deliver, last_code, borrower, new=number)
        SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(PhoneChangeRefused, match="3 times in 30 days"):
        phone_change_start(actor=borrower)
    later = timezone.now() + timedelta(days=settings.PHONE_CHANGE_WINDOW_DAYS, minutes=1)
    with time_machine.travel(later), deliver():
        assert phone_change_start(actor=borrower).status == PhoneChange.Status.STARTED


def test_an_expired_change_must_start_again(settings, deliver, last_code, borrower):
    change = start(deliver, borrower)
    code = last_code(OLD)
    later = timezone.now() + timedelta(minutes=settings.PHONE_CHANGE_TTL_MINUTES + 1)
    with time_machine.travel(later), pytest.raises(PhoneChangeRefused, match="expired"):
        phone_change_confirm_old(actor=borrower, change=change, code=code)


def test_a_frozen_account_cannot_change_its_phone(borrower):
    account_freeze(actor=borrower, user=borrower, reason="test")
    with pytest.raises(AccountFrozen):
        phone_change_start(actor=borrower)
    assert not PhoneChange.objects.exists()


def test_cancel_and_restart(deliver, last_code, borrower):
    change = start(deliver, borrower)
    phone_change_cancel(actor=borrower, change=change)
    assert PhoneChange.objects.get().status == PhoneChange.Status.CANCELLED
    with pytest.raises(PhoneChangeRefused, match="expired"):
        phone_change_confirm_old(actor=borrower, change=change, code=last_code(OLD))


def test_another_borrowers_change_is_not_found(deliver, borrower):
    change = start(deliver, borrower)
    other = BorrowerFactory()
    with pytest.raises(PhoneChange.DoesNotExist):
        phone_change_confirm_old(actor=other, change=change, code="123456")


# The carrier's three-element check of the new number (PHONE_CHANGE_CARRIER_CHECK)

OTHER_NAME = "+8613900130990"  # the FaceID simulator: not in the borrower's name


@pytest.fixture
def verified(faceid):
    from accounts.services import identity_verify

    borrower = BorrowerFactory(phone=OLD)
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    return borrower


def test_a_new_number_in_the_borrowers_name_changes_at_once(deliver, last_code, verified, faceid):
    user = change_phone(deliver, last_code, verified)
    assert str(user.phone) == NEW
    check = PhoneCheck.objects.get(purpose="phone_change")
    assert (check.outcome, check.phone_masked, check.phone_change) == (
        "match",
        "139****9000",
        PhoneChange.objects.get(),
    )
    assert not ReviewCase.objects.exists()


def test_a_new_number_in_someone_elses_name_goes_to_review_with_the_carriers_answer(
    deliver, last_code, verified, faceid
):
    user = change_phone(deliver, last_code, verified, new=OTHER_NAME)
    assert str(user.phone) == OLD
    change = PhoneChange.objects.get()
    assert change.status == "in_review"
    case = ReviewCase.objects.get()
    assert (case.kind, case.borrower, case.reasons[0]["code"]) == (
        "phone_other_name",
        verified,
        "phone_not_in_own_name",
    )
    check = PhoneCheck.objects.get(purpose="phone_change")
    event = AuditEvent.objects.get(action="phone_change.to_review")
    assert event.data == {
        "case": case.pk,
        "new": "139****0990",
        "phone_check": "mismatch",
        "provider_request_id": check.provider_request_id,
    }
    rows = dict((str(k), str(v)) for k, v in phone_other_name_summary(case))
    assert rows["New number at the carrier"] == "Not in the borrower's name"
    assert Notification.objects.filter(user=verified, kind="phone_change_in_review").exists()
    with pytest.raises(PhoneChangeRefused, match="waiting for review"):
        phone_change_start(actor=verified)

    with deliver():
        review_case_decide(
            actor=StaffFactory(role="officer"), case_id=case.pk, verdict="approve", reason="called the holder"
        )
    verified.refresh_from_db()
    assert str(verified.phone) == OTHER_NAME and PhoneChange.objects.get().status == "completed"


def test_rejecting_keeps_the_number_and_tells_the_borrower(deliver, last_code, verified, faceid):
    change_phone(deliver, last_code, verified, new=OTHER_NAME)
    case = ReviewCase.objects.get()
    review_case_decide(
        actor=StaffFactory(role="officer"), case_id=case.pk, verdict="reject", reason="not the holder"
    )
    verified.refresh_from_db()
    assert str(verified.phone) == OLD and PhoneChange.objects.get().status == "rejected"
    assert Notification.objects.get(user=verified, kind="phone_change_rejected").params == {
        "reason": "not the holder"
    }


def test_a_carrier_that_does_not_answer_sends_the_change_to_review(deliver, last_code, verified, settings):
    change = set_new(deliver, last_code, verified)
    settings.FACEID_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    with deliver():
        user = phone_change_confirm_new(actor=verified, change=change, code=last_code(NEW))
    assert str(user.phone) == OLD and PhoneChange.objects.get().status == "in_review"
    assert PhoneCheck.objects.get(purpose="phone_change").outcome == "unavailable"


def test_a_borrower_without_an_identity_is_not_checked(deliver, last_code, borrower, faceid):
    user = change_phone(deliver, last_code, borrower, new=OTHER_NAME)  # nothing to compare with
    assert str(user.phone) == OTHER_NAME and not faceid.calls("PhoneVerification")


def test_without_the_setting_the_carrier_is_not_asked(deliver, last_code, verified, settings, faceid):
    settings.PHONE_CHANGE_CARRIER_CHECK = False
    user = change_phone(deliver, last_code, verified, new=OTHER_NAME)
    assert str(user.phone) == OTHER_NAME and not PhoneCheck.objects.filter(purpose="phone_change").exists()
