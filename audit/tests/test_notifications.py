import pytest
from django.core import mail
from django.core.mail.backends import locmem

from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import NotificationSent
from audit.tasks import notify_officers

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers():
    return [
        StaffFactory(role="officer", email="li@lending.example", language="zh-hans"),
        StaffFactory(role="officer", email="wang@lending.example", language="en"),
        StaffFactory(role="officer", email=""),  # sees the case as new in the admin only
        StaffFactory(role="auditor", email="audit@lending.example"),  # not an officer
    ]


def test_every_officer_with_an_address_gets_one_email_in_their_language(open_case, officers):
    case = open_case(score=90)
    assert notify_officers.apply(kwargs={"case_id": case.pk, "event": "opened"}).get() == 2
    assert (
        notify_officers.apply(kwargs={"case_id": case.pk, "event": "opened"}).get() == 0
    )  # a repeat sends nothing
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"li@lending.example", "wang@lending.example"}
    assert f"#{case.pk}" in by_address["wang@lending.example"].subject
    assert "two officers" in by_address["wang@lending.example"].body
    assert (
        "两位专员" in by_address["li@lending.example"].body
        and "新审核案件" in by_address["li@lending.example"].subject
    )
    assert f"/admin/audit/reviewcase/{case.pk}/change/" in by_address["li@lending.example"].body


def test_a_retry_after_a_failure_skips_the_officers_already_emailed(open_case, officers, settings):
    case = open_case()
    settings.EMAIL_BACKEND = "audit.tests.test_notifications.FailOnceForWang"
    FailOnceForWang.failed = False
    with pytest.raises(ConnectionError):
        notify_officers.run(case_id=case.pk, event="opened")  # the first delivery fails half way
    notify_officers.run(case_id=case.pk, event="opened")  # Celery's retry
    assert sorted(message.to[0] for message in mail.outbox) == ["li@lending.example", "wang@lending.example"]
    assert NotificationSent.objects.count() == 2


def test_escalation_emails_are_their_own_notice(open_case, officers):
    case = open_case()
    notify_officers.apply(kwargs={"case_id": case.pk, "event": "opened"})
    notify_officers.apply(kwargs={"case_id": case.pk, "event": "escalated"})
    assert len(mail.outbox) == 4
    assert sum("超过处理时限" in m.subject or "past its SLA" in m.subject for m in mail.outbox) == 2


def test_emails_carry_no_personal_data(open_case, officers):
    borrower = BorrowerFactory(phone="+8613912345678")
    notify_officers.apply(kwargs={"case_id": open_case(borrower=borrower).pk, "event": "opened"})
    for message in mail.outbox:
        assert "13912345678" not in message.body and "139****5678" not in message.body


class FailOnceForWang(locmem.EmailBackend):
    failed = False

    def send_messages(self, messages):
        if messages[0].to == ["wang@lending.example"] and not FailOnceForWang.failed:
            FailOnceForWang.failed = True
            raise ConnectionError("smtp down")
        return super().send_messages(messages)
