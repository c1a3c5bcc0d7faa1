import pytest

from accounts.models import Notification
from accounts.services import DomainError, account_freeze, account_unfreeze
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_freeze_stops_sessions_and_is_recorded():
    borrower = BorrowerFactory()
    before = borrower.get_session_auth_hash()
    user = account_freeze(actor=borrower, user=borrower, reason="reported by the borrower")
    assert user.is_frozen and user.get_session_auth_hash() != before
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.data) == (
        "account.frozen",
        borrower,
        {"reason": "reported by the borrower"},
    )
    assert user.history.latest().history_change_reason == "frozen: reported by the borrower"
    assert account_freeze(actor=borrower, user=user, reason="again").frozen_at == user.frozen_at  # idempotent


def test_an_officer_unfreezes_with_a_reason(deliver, sms_outbox):
    borrower = BorrowerFactory()
    account_freeze(actor=borrower, user=borrower, reason="reported")
    officer = StaffFactory(role="officer")
    with deliver():
        user = account_unfreeze(actor=officer, user=borrower, note="called the borrower back on 13912345678")
    assert not user.is_frozen
    event = AuditEvent.objects.get(action="account.unfrozen")
    assert event.actor == officer and "13912345678" not in str(event.data)
    assert Notification.objects.filter(user=user, kind="account_unfrozen").exists()
    assert sms_outbox[-1].to == str(borrower.phone)


@pytest.mark.parametrize("role", ["auditor", "support"])
def test_only_officers_unfreeze(role):
    borrower = BorrowerFactory()
    account_freeze(actor=borrower, user=borrower, reason="reported")
    with pytest.raises(DomainError, match="may not"):
        account_unfreeze(actor=StaffFactory(role=role), user=borrower, note="ok")


def test_unfreeze_needs_a_reason_and_a_frozen_account():
    officer = StaffFactory(role="officer")
    borrower = BorrowerFactory()
    with pytest.raises(DomainError, match="not frozen"):
        account_unfreeze(actor=officer, user=borrower, note="ok")
    account_freeze(actor=borrower, user=borrower, reason="reported")
    with pytest.raises(DomainError, match="reason"):
        account_unfreeze(actor=officer, user=borrower, note="  ")
