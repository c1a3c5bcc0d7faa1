"""Opening a borrower's user, identity, card or review case page in the back office is audited."""

import pytest

from accounts.models import Identity
from accounts.services import account_freeze
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import AuditEvent, ReviewCase
from cards.tests.conftest import bind, borrower  # noqa: F401

pytestmark = pytest.mark.django_db


def accesses(officer):
    return list(
        AuditEvent.objects.filter(action="access.viewed", actor=officer)
        .order_by("pk")
        .values_list("subject_type", "subject_id")
    )


def test_each_opened_record_is_logged_with_who_and_what(admin_login, bind, borrower):  # noqa: F811
    card = bind(borrower)
    account_freeze(actor=borrower, user=borrower, reason="reported by the borrower")  # opens a case
    case = ReviewCase.objects.get()
    identity = Identity.objects.get(user=borrower)
    officer = StaffFactory(role="officer")
    client = admin_login(officer)

    for url in (
        f"/admin/accounts/user/{borrower.pk}/change/",
        f"/admin/accounts/identity/{identity.pk}/change/",
        f"/admin/cards/card/{card.pk}/change/",
        f"/admin/audit/reviewcase/{case.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url

    assert accesses(officer) == [
        ("accounts.user", str(borrower.pk)),
        ("accounts.identity", str(identity.pk)),
        ("cards.card", str(card.pk)),
        ("audit.reviewcase", str(case.pk)),
    ]
    event = AuditEvent.objects.filter(action="access.viewed").first()
    assert event.actor_label == officer.username and event.ip


def test_lists_and_missing_records_are_not_logged(admin_login):
    BorrowerFactory()
    officer = StaffFactory(role="auditor")
    client = admin_login(officer)
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/accounts/user/999999/change/").status_code == 302  # "does not exist"
    assert accesses(officer) == []
