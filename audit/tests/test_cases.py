from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from audit.models import AuditEvent, ReviewCase, ReviewDecision
from audit.services import (
    ReviewActionFailed,
    ReviewRefused,
    review_case_cancel,
    review_case_decide,
    review_cases_escalate,
    review_cases_expire,
)
from lending.errors import DomainError
from lending.models import OutboxMessage

pytestmark = pytest.mark.django_db


def decide(officer, case, verdict="approve", reason="checked the identity documents"):
    return review_case_decide(actor=officer, case_id=case.pk, verdict=verdict, reason=reason)


def actions(case):
    return list(
        AuditEvent.objects.filter(subject_type="audit.reviewcase", subject_id=str(case.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_opening_a_case_records_it_sets_the_sla_and_tells_the_officers(open_case):
    case = open_case(score=20)
    assert (case.status, case.approvals_needed, case.risk_score) == ("open", 1, 20)
    assert case.reasons == [{"code": "test", "text": "a test reason", "score": 20}]
    assert case.sla_due_at > case.opened_at
    assert actions(case) == ["review.opened"]
    assert OutboxMessage.objects.filter(
        task="audit.tasks.notify_officers", kwargs={"case_id": case.pk, "event": "opened"}
    ).exists()
    assert case.history.get().history_change_reason == "opened"


def test_one_officer_approves_a_normal_case(open_case, test_kind):
    case = open_case()
    officer = StaffFactory(role="officer")
    case = decide(officer, case)
    assert case.status == "approved" and case.outcome_reason == "checked the identity documents"
    assert test_kind.approved == [(case.pk, officer.pk)]
    assert actions(case) == ["review.opened", "review.approved"]


def test_a_high_risk_case_needs_two_different_officers(open_case, test_kind, settings):
    case = open_case(score=settings.REVIEW_HIGH_RISK_SCORE)
    first, second = StaffFactory(role="officer"), StaffFactory(role="officer")
    assert case.approvals_needed == 2

    case = decide(first, case)
    assert case.status == "open" and test_kind.approved == []
    with pytest.raises(ReviewRefused, match="another officer"):
        decide(first, case)  # the same officer twice
    case = decide(second, case)

    assert case.status == "approved" and test_kind.approved == [(case.pk, second.pk)]
    assert actions(case) == ["review.opened", "review.approval_recorded", "review.approved"]


def test_one_rejection_ends_a_high_risk_case(open_case, test_kind, settings):
    case = open_case(score=90)
    decide(StaffFactory(role="officer"), case)
    case = decide(StaffFactory(role="officer"), case, "reject", "documents do not match")
    assert case.status == "rejected" and test_kind.approved == []
    assert test_kind.rejected[0][2] == "documents do not match"


def test_nobody_decides_a_case_about_their_own_account_or_one_they_requested(open_case):
    officer = StaffFactory(role="officer")
    with pytest.raises(ReviewRefused, match="own account"):
        decide(officer, open_case(borrower=officer, requested_by=StaffFactory()))
    with pytest.raises(ReviewRefused, match="requested"):
        decide(officer, open_case(requested_by=officer))
    assert not ReviewDecision.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_mandatory(open_case, reason):
    case = open_case()
    with pytest.raises(ReviewRefused, match="reason"):
        decide(StaffFactory(role="officer"), case, reason=reason)
    assert ReviewCase.objects.get().status == "open"


def test_a_decided_case_cannot_be_decided_again(open_case):
    case = open_case()
    decide(StaffFactory(role="officer"), case)
    with pytest.raises(ReviewRefused, match="already approved"):
        decide(StaffFactory(role="officer"), case, "reject")


def test_a_failing_approve_action_leaves_the_case_open_and_says_why(open_case, test_kind):
    case = open_case()
    test_kind.fail_with = DomainError("the new number was taken meanwhile")
    officer = StaffFactory(role="officer")
    with pytest.raises(ReviewActionFailed, match="taken meanwhile"):
        decide(officer, case)
    case.refresh_from_db()
    assert case.status == "open" and not ReviewDecision.objects.exists()
    failed = AuditEvent.objects.get(action="review.action_failed")
    assert failed.actor == officer and "taken meanwhile" in failed.data["error"]
    test_kind.fail_with = None
    assert decide(officer, case).status == "approved"  # and it can be tried again


def test_an_unexpected_error_in_the_action_is_logged_not_shown(open_case, test_kind, caplog):
    test_kind.fail_with = RuntimeError("internal detail")
    with pytest.raises(ReviewActionFailed) as failed:
        decide(StaffFactory(role="officer"), open_case())
    assert "internal detail" not in failed.value.message
    assert "internal detail" in caplog.text


def test_cancel(open_case):
    case = open_case()
    review_case_cancel(actor=case.requested_by, case=case, reason="withdrawn")
    case.refresh_from_db()
    assert case.status == "cancelled"
    with pytest.raises(ReviewRefused):
        decide(StaffFactory(role="officer"), case)


def test_escalation_happens_once_per_overdue_case(open_case):
    overdue, fresh = open_case(), open_case()
    ReviewCase.objects.filter(pk=overdue.pk).update(sla_due_at=timezone.now() - timedelta(minutes=1))

    assert review_cases_escalate() == 1
    assert review_cases_escalate() == 0

    overdue.refresh_from_db()
    fresh.refresh_from_db()
    assert overdue.escalated_at is not None and fresh.escalated_at is None
    assert actions(overdue) == ["review.opened", "review.escalated"]
    assert OutboxMessage.objects.filter(kwargs={"case_id": overdue.pk, "event": "escalated"}).count() == 1


def test_stale_cases_expire_with_the_reject_action(open_case, test_kind, settings):
    case = open_case()
    with time_machine.travel(timezone.now() + timedelta(days=settings.REVIEW_EXPIRE_DAYS, hours=1)):
        assert review_cases_expire() == 1
    case.refresh_from_db()
    assert case.status == "expired"
    assert test_kind.rejected[0][:2] == (case.pk, None)
