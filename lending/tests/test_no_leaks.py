"""Collection, its failures, reminders and the loan pages (portal and back office): afterwards no full
phone number, ID number or card number in any table, log record, audit data or page."""

import logging
from datetime import timedelta

import pytest

from accounts.tests.factories import StaffFactory
from accounts.tests.test_no_leaks import ALLOWED, database_rows
from audit.models import AuditEvent
from cards.models import Mandate
from cards.tests import sandbox_cards
from lending.pii import find_pii, find_pii_in
from lending.services import loans_collect, repayment_card_reminders_send
from lending.tests.conftest import FIRST_DUE

pytestmark = pytest.mark.django_db

NEEDLES = ("13800138000", "110105199003071239", *sandbox_cards.ALL)


def test_no_full_number_after_collection_reminders_and_the_loan_pages(
    bind, borrower, make_loan, deliver, sign_in, admin_login, caplog
):
    caplog.set_level(logging.DEBUG)
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    loan = make_loan(borrower)
    with deliver():
        loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)  # soft failure: SMS + notice
        Mandate.objects.update(status=Mandate.Status.REVOKED)
        repayment_card_reminders_send(day=loan.installments.get(number=2).due_date - timedelta(days=3))
    bodies = [
        sign_in(borrower).get(url).content.decode()
        for url in ("/loans/", f"/loans/{loan.pk}/", "/notifications/")
    ]
    officer = admin_login(StaffFactory(role="officer"))
    for url in (
        "/admin/lending/debitattempt/",
        f"/admin/lending/loan/{loan.pk}/change/",
        "/admin/lending/loan/",
    ):
        bodies.append(officer.get(url).content.decode())
    assert AuditEvent.objects.filter(action__in=["debit.failed", "loan.repayment_card_reminder"]).count() == 2

    for body in bodies:
        assert not any(needle in body for needle in NEEDLES)
    for log in caplog.records:
        text = log.getMessage() + (log.exc_text or "")
        assert not find_pii(text) and not any(needle in text for needle in NEEDLES), text
    for data in AuditEvent.objects.values_list("data", flat=True):
        assert not find_pii_in(data), data
    for table, row in database_rows():
        for column, value in row.items():
            if (table, column) not in ALLOWED:
                assert not any(needle in str(value) for needle in NEEDLES), (table, column)
