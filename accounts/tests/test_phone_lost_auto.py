"""Lost phone: automatic approval by the named system rule (LOST_PHONE_AUTO_APPROVE)."""

import pytest

from accounts.models import PhoneChange, SmsMessage
from accounts.review_kinds import lost_phone_summary
from accounts.services import identity_verify, phone_lost_confirm, phone_lost_start
from accounts.services.phone_lost import AUTO_APPROVE_RULE
from accounts.tests.factories import BorrowerFactory
from accounts.tests.helpers import face_check
from accounts.tests.test_views_phone_lost import DETAILS, through_the_face_check
from audit.models import AuditEvent, ReviewCase

pytestmark = pytest.mark.django_db

OLD, NEW, OTHER_NAME = "+8613800138000", "+8613900139000", "+8613900130990"


@pytest.fixture
def borrower():
    borrower = BorrowerFactory(phone=OLD)
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    return borrower


def proven(deliver, last_code, new_phone=NEW):
    with deliver():
        change = phone_lost_start(
            phone=OLD,
            password="borrower-pass-123",
            real_name="张三",
            id_number=DETAILS["id_number"],
            new_phone=new_phone,
        )
    with deliver():
        assert phone_lost_confirm(change=change, code=last_code(new_phone)) is None
    return change


def rows(case) -> dict:
    return {str(label): str(value) for label, value in lost_phone_summary(case)}


def test_with_the_rule_on_a_passing_face_and_a_matching_carrier_approve_it(
    deliver, last_code, borrower, faceid, settings
):
    settings.LOST_PHONE_AUTO_APPROVE = True
    change = proven(deliver, last_code)
    with deliver():
        case = face_check(change, faceid)

    assert case.status == "approved" and not case.decisions.exists()
    assert AUTO_APPROVE_RULE in case.outcome_reason and "92.40" in case.outcome_reason
    borrower.refresh_from_db()
    assert str(borrower.phone) == NEW
    assert PhoneChange.objects.get().status == "completed"
    approved = AuditEvent.objects.get(action="review.approved_by_rule")
    assert approved.data == {"kind": "phone_lost", "rule": AUTO_APPROVE_RULE}
    assert (approved.actor, approved.actor_kind, approved.actor_label) == (
        None,
        "system",
        f"rule:{AUTO_APPROVE_RULE}",
    )
    assert approved.subject_id == str(case.pk)
    assert AuditEvent.objects.filter(action="phone_change.completed").exists()
    assert rows(case)["Approved by the system rule"] == AUTO_APPROVE_RULE
    assert rows(case)["Face check"] == "Passed"
    templates = set(SmsMessage.objects.values_list("template", flat=True))
    assert {"phone_lost_approved", "phone_changed_old"} <= templates  # both numbers are told
    assert "phone_lost_received" not in templates  # nothing waits for review


def test_off_by_default_the_case_waits_for_an_officer(deliver, last_code, borrower, faceid, settings):
    assert settings.LOST_PHONE_AUTO_APPROVE is False
    case = face_check(proven(deliver, last_code), faceid)
    assert case.status == "open"
    borrower.refresh_from_db()
    assert str(borrower.phone) == OLD
    assert not AuditEvent.objects.filter(action="review.approved_by_rule").exists()
    assert "Approved by the system rule" not in rows(case)


def test_a_new_number_not_in_the_borrowers_name_waits_for_an_officer(
    deliver, last_code, borrower, faceid, settings
):
    settings.LOST_PHONE_AUTO_APPROVE = True
    case = face_check(proven(deliver, last_code, OTHER_NAME), faceid)
    assert case.status == "open" and rows(case)["New number at the carrier"] == "Not in the borrower's name"


def test_a_case_the_risk_rules_make_need_two_approvals_waits(deliver, last_code, borrower, faceid, settings):
    settings.LOST_PHONE_AUTO_APPROVE = True
    settings.REVIEW_HIGH_RISK_SCORE = 10  # "old phone lost" alone scores 20
    case = face_check(proven(deliver, last_code), faceid)
    assert (case.status, case.approvals_needed) == ("open", 2)


def test_a_number_taken_meanwhile_leaves_the_case_open(deliver, last_code, borrower, faceid, settings):
    settings.LOST_PHONE_AUTO_APPROVE = True
    change = proven(deliver, last_code)
    BorrowerFactory(phone=NEW)  # registered between the code and the face check
    case = face_check(change, faceid)
    assert case.status == "open" and PhoneChange.objects.get().status == "in_review"
    borrower.refresh_from_db()
    assert str(borrower.phone) == OLD


def test_the_page_says_the_number_is_changed(client, deliver, last_code, borrower, faceid, settings):
    settings.LOST_PHONE_AUTO_APPROVE = True
    with deliver():
        client.post("/accounts/phone/lost/", DETAILS)
    with deliver():
        client.post("/accounts/phone/lost/code/", {"code": last_code(NEW)})
    with deliver():
        back = through_the_face_check(client, faceid)
    page = client.get(back["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your number is changed. Sign in with the new number." in page
    assert ReviewCase.objects.get().status == "approved"
