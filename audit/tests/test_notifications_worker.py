"""With Redis and a real worker: the new-case email and the decision SMS go out once, redelivered or not."""

import pytest
from django.core import mail

from accounts.models import SmsMessage
from accounts.services import account_freeze
from accounts.tasks import send_sms
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import ReviewCase
from audit.services import review_case_decide
from audit.tasks import notify_officers
from conftest import wait_until
from lending.tests.tasks import remember, runs

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def drain(token):
    """Wait until the single worker has run everything sent before ``token``."""
    remember.delay(token=token)
    wait_until(lambda: not runs.empty() and runs.get_nowait() == token)


def test_new_case_email_and_decision_sms_exactly_once(celery_worker, sms_outbox):
    StaffFactory(role="officer", email="li@lending.example")
    officer = StaffFactory(role="officer", email="wang@lending.example")
    borrower = BorrowerFactory()

    account_freeze(actor=borrower, user=borrower, reason="reported by the borrower")  # opens a case
    wait_until(lambda: len(mail.outbox) == 2)
    case = ReviewCase.objects.get()
    review_case_decide(actor=officer, case_id=case.pk, verdict="approve", reason="called back, all fine")
    wait_until(lambda: len(sms_outbox) == 1)

    # Redelivery (a retry after a lost acknowledgement, a duplicate publish): no second send.
    notify_officers.delay(case_id=case.pk, event="opened")
    send_sms.delay(sms_id=SmsMessage.objects.get().pk)
    drain("after-redelivery")

    assert sorted(message.to[0] for message in mail.outbox) == ["li@lending.example", "wang@lending.example"]
    assert len(sms_outbox) == 1 and sms_outbox[0].to == str(borrower.phone)
    assert SmsMessage.objects.get().status == SmsMessage.Status.SENT
