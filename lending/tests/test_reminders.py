"""Three days before a due date, a borrower without a usable repayment card is told, once."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.models import Notification, SmsMessage
from audit.models import AuditEvent
from cards.models import Mandate
from lending.money import grouped
from lending.services import repayment_card_reminders_send
from lending.tasks import remind_missing_repayment_cards
from lending.tests.conftest import FIRST_DUE

pytestmark = pytest.mark.django_db

THREE_DAYS_BEFORE = FIRST_DUE - timedelta(days=3)


def test_a_loan_without_a_usable_mandate_gets_an_sms_and_a_notice_once(bind, borrower, make_loan):
    bind(borrower)
    make_loan(borrower)
    Mandate.objects.update(status=Mandate.Status.REVOKED)  # e.g. ended by the bank

    assert repayment_card_reminders_send(day=THREE_DAYS_BEFORE - timedelta(days=1)) == 0
    assert remind_missing_repayment_cards(day=THREE_DAYS_BEFORE.isoformat()) == 1
    assert repayment_card_reminders_send(day=THREE_DAYS_BEFORE) == 0  # not twice

    notice = Notification.objects.get(kind="repayment_card_missing")
    assert notice.link == "/cards/" and notice.params["due_date"] == FIRST_DUE.isoformat()
    sms = SmsMessage.objects.get(template="repayment_card_missing")
    assert sms.to_masked == "138****8000"
    assert "¥" + grouped(Decimal(notice.params["amount"])) in sms.body and "," in sms.body  # ¥1,013.70
    event = AuditEvent.objects.get(action="loan.repayment_card_reminder")
    assert event.actor_label == "repayment-card-reminder"


def test_a_borrower_with_an_active_repayment_card_is_not_reminded(bind, borrower, make_loan):
    bind(borrower)
    make_loan(borrower)
    assert repayment_card_reminders_send(day=THREE_DAYS_BEFORE) == 0
    assert not Notification.objects.filter(kind="repayment_card_missing").exists()
