from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Notification, PhoneChange, SmsCodeSend
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
from accounts.tests.factories import BorrowerFactory
from accounts.tests.helpers import wrong
from audit.models import AuditEvent

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
