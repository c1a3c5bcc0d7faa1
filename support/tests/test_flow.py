"""A help request from a refusal to the borrower's inbox and back (issue 20, item 1)."""

import pytest

from accounts.models import Notification
from audit.actions import Action
from audit.models import AuditEvent
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED
from support.models import SupportCase, SupportMessage

pytestmark = pytest.mark.django_db


def test_from_the_card_refusal_to_a_reply_in_the_inbox_and_back(
    bind, borrower, other_borrower, sign_in, back_office, support_user, deliver, sms_outbox
):
    bind(borrower)
    client = sign_in(other_borrower)
    refused = client.post(
        "/cards/bind/",
        {"card_number": sandbox_cards.GOOD_DEBIT, "reserved_phone": RESERVED},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = refused.content.decode()
    assert "bound to another account" in page
    assert 'href="/support/new/?category=card"' in page

    form = client.get("/support/new/?category=card", HTTP_ACCEPT_LANGUAGE="en")
    assert form.context["form"]["category"].value() == "card"
    opened = client.post(
        "/support/new/",
        {"category": "card", "message": "The card 6222020000000061234 is mine, call 13700137000."},
    )
    case = SupportCase.objects.get()
    assert opened["Location"] == f"/support/{case.pk}/"
    assert (case.borrower, case.category, case.status) == (other_borrower, "card", "open")
    body = case.messages.get().body
    assert "6222020000000061234" not in body and "13700137000" not in body  # masked when stored

    staff = back_office(support_user)
    queue = staff.get("/admin/support/supportcase/").content.decode()
    assert f">{case.pk}<" in queue and "13900139000" not in queue
    with deliver():
        staff.post(f"/admin/support/supportcase/{case.pk}/act/", {"action": "note", "text": "checked BIN"})
        staff.post(
            f"/admin/support/supportcase/{case.pk}/act/",
            {"action": "reply", "text": "Please send a photo of the card front to the branch."},
        )
    case.refresh_from_db()
    assert (case.status, case.assigned_to, case.first_answered_at is not None) == (
        "answered",
        support_user,
        True,
    )
    notification = Notification.objects.get(user=other_borrower, kind="support_reply")
    assert notification.link == f"/support/{case.pk}/"
    assert any(sms.to == str(other_borrower.phone) and f"#{case.pk}" in sms.body for sms in sms_outbox)

    detail = client.get(f"/support/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Please send a photo of the card front" in detail
    assert "checked BIN" not in detail  # internal notes stay internal

    client.post(f"/support/{case.pk}/", {"text": "Sent it, thank you."})
    case.refresh_from_db()
    assert case.status == "open"
    assert list(case.messages.values_list("kind", flat=True)) == ["borrower", "note", "reply", "borrower"]
    actions = set(
        AuditEvent.objects.filter(subject_type="support.supportcase").values_list("action", flat=True)
    )
    assert {
        Action.SUPPORT_CASE_OPENED,
        Action.SUPPORT_CASE_NOTED,
        Action.SUPPORT_CASE_REPLIED,
        Action.SUPPORT_CASE_BORROWER_REPLIED,
    } <= actions
    history = case.history.order_by("history_id")
    assert history.first().history_change_reason == "opened"


def test_support_assigns_resolves_and_the_borrower_reopens(borrower, sign_in, back_office, support_user):
    from accounts.tests.factories import StaffFactory

    client = sign_in(borrower)
    client.post("/support/new/", {"category": "repayment", "message": "Debited twice?"})
    case = SupportCase.objects.get()
    staff = back_office(support_user)
    colleague = StaffFactory(role="officer")
    staff.post(f"/admin/support/supportcase/{case.pk}/act/", {"action": "assign", "assignee": colleague.pk})
    auditor = StaffFactory(role="auditor")
    staff.post(f"/admin/support/supportcase/{case.pk}/act/", {"action": "assign", "assignee": auditor.pk})
    case.refresh_from_db()
    assert case.assigned_to == colleague  # only support staff and officers can be given one
    staff.post(f"/admin/support/supportcase/{case.pk}/act/", {"action": "resolve"})
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolved_at
    client.post(f"/support/{case.pk}/", {"text": "Still debited twice."})
    case.refresh_from_db()
    assert (case.status, case.resolved_at) == ("open", None)


def test_a_support_case_becomes_a_review_case_without_retyping(
    borrower, sign_in, back_office, support_user, deliver
):
    from accounts.tests.factories import StaffFactory
    from audit.models import ReviewCase
    from audit.services import review_case_decide

    client = sign_in(borrower)
    client.post("/support/new/", {"category": "card", "message": "My card is on someone else's account."})
    case = SupportCase.objects.get()
    staff = back_office(support_user)
    with deliver():
        staff.post(f"/admin/support/supportcase/{case.pk}/act/", {"action": "review"})
    case.refresh_from_db()
    review = ReviewCase.objects.get(kind="support_request")
    assert case.review_case == review and review.borrower == borrower
    officer = StaffFactory(role="officer")
    page = back_office(officer).get(f"/admin/audit/reviewcase/{review.pk}/change/").content.decode()
    assert "My card is on someone else&#x27;s account." in page
    review_case_decide(actor=officer, case_id=review.pk, verdict="approve", reason="proved at the branch")
    note = case.messages.filter(kind=SupportMessage.Kind.NOTE).get()
    assert f"Review case #{review.pk}: approved" in note.body


def test_the_borrower_sees_only_their_own_requests(borrower, other_borrower, sign_in):
    client = sign_in(other_borrower)
    client.post("/support/new/", {"category": "other", "message": "Mine"})
    theirs = SupportCase.objects.get()
    client = sign_in(borrower)
    assert "Mine" not in client.get("/support/").content.decode()
    assert client.get(f"/support/{theirs.pk}/").status_code == 404
    assert client.post(f"/support/{theirs.pk}/", {"text": "hello"}).status_code == 404
    assert theirs.messages.count() == 1


def test_a_request_names_only_the_borrowers_own_card(bind, borrower, other_borrower, sign_in):
    card = bind(borrower)
    sign_in(other_borrower).post("/support/new/", {"category": "card", "message": "x", "card_id": card.pk})
    assert SupportCase.objects.get().card is None


def test_too_many_requests_are_refused(borrower, sign_in, settings):
    settings.SUPPORT_REQUESTS_PER_DAY = 2
    client = sign_in(borrower)
    for _ in range(3):
        response = client.post(
            "/support/new/", {"category": "other", "message": "again"}, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert SupportCase.objects.count() == 2
    assert "many help requests" in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.SUPPORT_CASE_REFUSED).count() == 1


def test_the_queue_needs_the_support_or_officer_role(back_office):
    from accounts.tests.factories import StaffFactory

    auditor = back_office(StaffFactory(role="auditor"))
    assert auditor.get("/admin/support/supportcase/").status_code == 403
