import pytest

from accounts.models import Notification
from accounts.services import CodeRefused, password_change, password_reset_complete, password_reset_start
from accounts.tests.factories import BorrowerFactory
from accounts.tests.helpers import wrong
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_password_change_sets_it_tells_the_borrower_and_records_it(deliver, sms_outbox):
    borrower = BorrowerFactory()
    old_hash = borrower.get_session_auth_hash()

    with deliver():
        user = password_change(actor=borrower, new_password="New-lending-pass-9")

    assert user.check_password("New-lending-pass-9")
    assert user.get_session_auth_hash() != old_hash  # other sessions end
    assert AuditEvent.objects.filter(action="password.changed", actor=borrower).count() == 1
    assert user.history.latest().history_change_reason == "password changed"
    assert "密码" in sms_outbox[-1].body and sms_outbox[-1].to == str(borrower.phone)  # in their language
    assert Notification.objects.get(user=user).kind == "password_changed"


def test_reset_sends_a_code_and_sets_the_password(deliver, last_code):
    borrower = BorrowerFactory()
    old_epoch = borrower.session_epoch
    with deliver():
        password_reset_start(phone=str(borrower.phone))
    user = password_reset_complete(
        phone=str(borrower.phone), code=last_code(borrower.phone), new_password="Reset-lending-9"
    )
    assert user.check_password("Reset-lending-9") and user.session_epoch == old_epoch + 1
    assert "password.reset" in AuditEvent.objects.values_list("action", flat=True)


def test_reset_with_a_wrong_code_changes_nothing(deliver, last_code):
    borrower = BorrowerFactory()
    with deliver():
        password_reset_start(phone=str(borrower.phone))
    with pytest.raises(CodeRefused):
        password_reset_complete(
            phone=str(borrower.phone), code=wrong(last_code(borrower.phone)), new_password="X-y-z-12345"
        )
    borrower.refresh_from_db()
    assert borrower.check_password("borrower-pass-123")


def test_reset_for_an_unknown_number_looks_the_same_but_sends_nothing(deliver, sms_outbox):
    with deliver():
        password_reset_start(phone="+8613911112222")
    assert sms_outbox == []
    assert AuditEvent.objects.get().action == "sms_code.sent"
    with pytest.raises(CodeRefused, match="wrong"):
        password_reset_complete(phone="+8613911112222", code="123456", new_password="X-y-z-12345")
