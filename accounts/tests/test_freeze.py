import pytest

from accounts.models import Notification
from accounts.services import account_freeze
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import AuditEvent, ReviewCase
from audit.services import ReviewRefused, review_case_decide

pytestmark = pytest.mark.django_db


def freeze(borrower, reason="reported by the borrower"):
    return account_freeze(actor=borrower, user=borrower, reason=reason)


def test_freeze_stops_sessions_opens_an_unfreeze_case_and_is_recorded():
    borrower = BorrowerFactory()
    before = borrower.get_session_auth_hash()

    user = freeze(borrower)

    assert user.is_frozen and user.get_session_auth_hash() != before
    event = AuditEvent.objects.get(action="account.frozen")
    assert (event.actor, event.data) == (borrower, {"reason": "reported by the borrower"})
    assert user.history.latest().history_change_reason == "frozen: reported by the borrower"
    case = ReviewCase.objects.get()
    assert (case.kind, case.borrower, case.requested_by, case.status) == (
        "account_unfreeze",
        user,
        borrower,
        "open",
    )
    assert freeze(user, "again").frozen_at == user.frozen_at  # idempotent: no second case
    assert ReviewCase.objects.count() == 1


def test_an_officer_approves_the_case_and_the_account_unfreezes(deliver, sms_outbox):
    borrower = BorrowerFactory()
    freeze(borrower)
    case = ReviewCase.objects.get()
    officer = StaffFactory(role="officer")

    with deliver():
        review_case_decide(
            actor=officer, case_id=case.pk, verdict="approve", reason="called back on 13912345678"
        )

    borrower.refresh_from_db()
    assert not borrower.is_frozen
    unfrozen = AuditEvent.objects.get(action="account.unfrozen")
    assert unfrozen.actor == officer and unfrozen.data == {"case": case.pk}
    assert "13912345678" not in ReviewCase.objects.get().outcome_reason  # the reason is redacted
    assert Notification.objects.filter(user=borrower, kind="account_unfrozen").exists()
    assert sms_outbox[-1].to == str(borrower.phone)


def test_a_rejected_case_keeps_the_account_frozen_and_tells_why():
    borrower = BorrowerFactory()
    freeze(borrower)
    review_case_decide(
        actor=StaffFactory(role="officer"),
        case_id=ReviewCase.objects.get().pk,
        verdict="reject",
        reason="card fraud suspected",
    )
    borrower.refresh_from_db()
    assert borrower.is_frozen
    notice = Notification.objects.get(user=borrower, kind="account_unfreeze_refused")
    assert notice.params == {"reason": "card fraud suspected"}


@pytest.mark.parametrize("role", ["auditor", "support"])
def test_only_officers_decide(role):
    borrower = BorrowerFactory()
    freeze(borrower)
    with pytest.raises(ReviewRefused, match="may not"):
        review_case_decide(
            actor=StaffFactory(role=role), case_id=ReviewCase.objects.get().pk, verdict="approve", reason="ok"
        )
    borrower.refresh_from_db()
    assert borrower.is_frozen
