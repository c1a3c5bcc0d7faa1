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


def test_opening_a_records_history_is_logged(admin_login, borrower):  # noqa: F811
    officer = StaffFactory(role="officer")
    client = admin_login(officer)
    assert client.get(f"/admin/accounts/user/{borrower.pk}/history/").status_code == 200
    event = AuditEvent.objects.get(action="access.viewed", actor=officer)
    assert (event.subject_type, event.subject_id, event.data) == (
        "accounts.user",
        str(borrower.pk),
        {"page": "history"},
    )


def test_officer_reveals_a_masked_value_with_a_post_and_it_is_recorded(admin_login, borrower):  # noqa: F811
    officer = StaffFactory(role="officer")
    client = admin_login(officer)
    page = client.get(f"/admin/accounts/user/{borrower.pk}/change/").text
    assert "138****8000" in page and "13800138000" not in page
    assert 'action="reveal/phone/"' in page

    url = f"/admin/accounts/user/{borrower.pk}/reveal/phone/"
    assert client.get(url).status_code == 405  # a GET (a prefetch, a link) reveals nothing
    revealed = client.post(url)
    assert revealed.status_code == 200 and "+8613800138000" in revealed.text
    assert "no-store" in revealed["Cache-Control"]
    identity = Identity.objects.get(user=borrower)
    id_page = client.post(f"/admin/accounts/identity/{identity.pk}/reveal/id_number/")
    assert "110105199003071239" in id_page.text

    events = AuditEvent.objects.filter(action="access.revealed", actor=officer).order_by("pk")
    assert [(e.subject_type, e.subject_id, e.data) for e in events] == [
        ("accounts.user", str(borrower.pk), {"field": "phone"}),
        ("accounts.identity", str(identity.pk), {"field": "id_number"}),
    ]
    assert client.post(f"/admin/accounts/user/{borrower.pk}/reveal/password/").status_code == 404


def test_auditors_and_support_cannot_reveal(admin_login, borrower):  # noqa: F811
    for role in ("auditor", "support"):
        client = admin_login(StaffFactory(role=role))
        page = client.get(f"/admin/accounts/user/{borrower.pk}/change/").text
        assert "reveal/phone/" not in page
        assert client.post(f"/admin/accounts/user/{borrower.pk}/reveal/phone/").status_code == 403
        client.logout()
    assert not AuditEvent.objects.filter(action="access.revealed").exists()
