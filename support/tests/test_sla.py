"""Help requests have deadlines in working hours; overdue ones escalate once."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from audit.actions import Action
from audit.models import AuditEvent
from support.models import SupportCase
from support.services import support_case_open, support_case_reply, support_cases_escalate

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def staff():
    from accounts.tests.factories import StaffFactory

    return StaffFactory(role="support", email="helper@example.com")


def test_deadlines_count_working_hours_and_complaints_are_faster(borrower, settings):
    settings.SUPPORT_FIRST_ANSWER_HOURS, settings.SUPPORT_RESOLVE_HOURS = 4, 24
    settings.SUPPORT_COMPLAINT_FIRST_ANSWER_HOURS, settings.SUPPORT_COMPLAINT_RESOLVE_HOURS = 2, 16
    with time_machine.travel(MONDAY_10, tick=False):
        plain = support_case_open(actor=borrower, category="other", message="question")
        complaint = support_case_open(
            actor=borrower, category="other", message="complaint", is_complaint=True
        )
    local = lambda moment: moment.astimezone(SHANGHAI).replace(tzinfo=None)  # noqa: E731
    assert local(plain.first_answer_due_at) == datetime(2026, 11, 30, 14, 0)
    assert local(complaint.first_answer_due_at) == datetime(2026, 11, 30, 12, 0)
    assert local(complaint.resolve_due_at) == datetime(2026, 12, 1, 17, 0)  # 8 h on Monday, 8 of 9 on Tuesday
    assert local(plain.resolve_due_at) == datetime(2026, 12, 2, 16, 0)  # 8 + 9 + 7 working hours


def test_an_unanswered_request_escalates_once_and_staff_are_emailed(borrower, staff, deliver, mailoutbox):
    with time_machine.travel(MONDAY_10, tick=False):
        case = support_case_open(actor=borrower, category="card", message="help")
    with time_machine.travel(datetime(2026, 11, 30, 13, 0, tzinfo=SHANGHAI), tick=False):
        assert support_cases_escalate() == 0
    with time_machine.travel(datetime(2026, 11, 30, 14, 1, tzinfo=SHANGHAI), tick=False), deliver():
        assert support_cases_escalate() == 1
        assert support_cases_escalate() == 0
    case.refresh_from_db()
    assert case.escalated_at is not None
    event = AuditEvent.objects.get(action=Action.SUPPORT_CASE_ESCALATED)
    assert event.data == {"late": "first_answer"}
    assert [mail.to for mail in mailoutbox] == [["helper@example.com"]]
    assert f"#{case.pk}" in mailoutbox[0].subject


def test_an_answered_request_escalates_only_past_its_resolution(borrower, staff):
    with time_machine.travel(MONDAY_10, tick=False):
        case = support_case_open(actor=borrower, category="card", message="help")
        support_case_reply(actor=staff, case=case, text="looking")
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        assert support_cases_escalate() == 0
    with time_machine.travel(datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI), tick=False):
        assert support_cases_escalate() == 1
    assert AuditEvent.objects.get(action=Action.SUPPORT_CASE_ESCALATED).data == {"late": "resolution"}
    assert SupportCase.objects.get().escalated_at is not None
