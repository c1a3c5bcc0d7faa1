"""Card, ID and phone numbers typed into help requests, replies and notes are masked before they
are stored: no full number in any table, text message or audit event afterwards."""

import pytest

from accounts.tests.factories import StaffFactory
from accounts.tests.test_no_leaks import ALLOWED, database_rows
from audit.models import AuditEvent
from lending.pii import find_pii_in
from support.models import SupportCase
from support.services import (
    support_case_borrower_reply,
    support_case_note,
    support_case_open,
    support_case_reply,
)

pytestmark = pytest.mark.django_db

TYPED = "Call me on 137 1111 0001; card 6217.0000.0000.0001.234, ID 110105 19870307 5316"
NEEDLES = ("13711110001", "6217000000000001234", "110105198703075316")


def test_numbers_typed_into_a_request_are_masked_everywhere(borrower, deliver, sms_outbox):
    staff = StaffFactory(role="support")
    with deliver():
        case = support_case_open(actor=borrower, category="card", message=TYPED, is_complaint=True)
        support_case_note(actor=staff, case=case, text=TYPED)
        support_case_reply(actor=staff, case=case, text=TYPED)
        support_case_borrower_reply(actor=borrower, case=SupportCase.objects.get(), text=TYPED)
    assert "137****0001" in case.messages.first().body
    for table, row in database_rows():
        for column, value in row.items():
            if (table, column) not in ALLOWED:
                assert not any(needle in str(value) for needle in NEEDLES), (table, column)
    for sms in sms_outbox:
        assert not any(needle in sms.body for needle in NEEDLES)
    for data in AuditEvent.objects.values_list("data", flat=True):
        assert not find_pii_in(data), data
