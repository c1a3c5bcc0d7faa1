"""Step-up: a bind or unbind held for review, cleared by the borrower's own face check
(STEP_UP_FACE_CHECK), through the real SDK against the FaceID simulator."""

import json
import logging
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.utils import timezone

from accounts.models import Consent, FaceCheck, PhoneChange
from accounts.policies import current_policy
from accounts.services import FaceCheckRefused, identity_verify
from accounts.tests import identity_numbers as ids
from accounts.tests.factories import BorrowerFactory, StaffFactory
from accounts.tests.helpers import identity_row
from audit.models import AuditEvent, ReviewCase
from audit.services import ReviewRefused, review_case_decide
from cards.review_kinds import card_summary
from cards.services import StepUpRefused, card_unbind, step_up_case, step_up_face_finish, step_up_face_start
from cards.tests.conftest import RESERVED
from conftest import free_port

pytestmark = pytest.mark.django_db

RETURN_URL = "http://testserver/cards/face-check/back/"


def phone_just_changed(user):
    """Binds and unbinds go to review for a day after a phone change."""
    PhoneChange.objects.create(
        user=user, status="completed", old_phone_masked="x", completed_at=timezone.now() - timedelta(hours=1)
    )


def held_unbind(bind, action_code, user):
    card = bind(user)
    phone_just_changed(user)
    card = card_unbind(actor=user, card=card, code=action_code(user, "card_unbind", card.pk))
    assert card.status == "pending_review"
    return card


def face_check(user, card, faceid):
    """Consent, the provider's page as the borrower goes through it, and back."""
    check = step_up_face_start(
        actor=user, card=card, consent=current_policy("biometrics", "en"), return_url=RETURN_URL
    )
    faceid.finish(check.biz_token)
    return step_up_face_finish(actor=user, biz_token=check.biz_token)


def test_a_passing_face_check_completes_a_held_unbind_and_closes_its_case(
    bind, action_code, deliver, borrower, faceid
):
    card = held_unbind(bind, action_code, borrower)
    case = ReviewCase.objects.get(kind="card_unbind")
    assert step_up_case(borrower, card) == case
    with deliver():
        card = face_check(borrower, card, faceid)

    assert card.status == "unbound" and card.active_mandate is None
    case.refresh_from_db()
    check = FaceCheck.objects.get()
    [result_call] = faceid.calls("GetDetectInfoEnhanced")
    assert (check.purpose, check.status, check.review_case, check.similarity) == (
        "step_up",
        "passed",
        case,
        Decimal("92.40"),
    )
    assert case.status == "approved" and "face check" in case.outcome_reason
    assert result_call["request_id"] in case.outcome_reason
    evidence = {
        "face_check": check.pk,
        "similarity": "92.40",
        "provider_request_id": result_call["request_id"],
    }
    cleared = AuditEvent.objects.get(action="review.cleared_by_face_check")
    assert cleared.data == {"kind": "card_unbind", **evidence} and cleared.actor == borrower
    step = AuditEvent.objects.get(action="step_up.cleared")
    assert step.data == {"case": case.pk, "kind": "card_unbind", "card": card.masked_number, **evidence}
    assert AuditEvent.objects.get(action="face_check.checked").data["case"] == case.pk
    assert AuditEvent.objects.filter(action="card.unbound", subject_id=str(card.pk)).exists()
    assert not case.decisions.exists()  # no officer decided it
    with pytest.raises(ReviewRefused, match="already"):
        review_case_decide(actor=StaffFactory(role="officer"), case_id=case.pk, verdict="approve", reason="x")


def test_a_passing_face_check_completes_a_held_binding(bind, borrower, faceid):
    phone_just_changed(borrower)
    card = bind(borrower)
    assert (card.status, card.is_repayment) == ("pending_review", False)
    card = face_check(borrower, card, faceid)
    assert (card.status, card.is_repayment) == ("active", True)
    assert ReviewCase.objects.get(kind="card_bind").status == "approved"
    assert AuditEvent.objects.get(action="step_up.cleared").data["kind"] == "card_bind"


def test_the_consent_is_recorded_before_the_provider_hears_of_the_borrower(
    bind, action_code, borrower, faceid
):
    card = held_unbind(bind, action_code, borrower)
    face_check(borrower, card, faceid)
    consent = Consent.objects.get(user=borrower, document="biometrics")
    assert FaceCheck.objects.get().consent == consent
    [start_call] = faceid.calls("DetectAuth")
    assert consent.accepted_at.timestamp() < start_call["at"]
    recorded = AuditEvent.objects.get(action="consent.recorded", data__document="biometrics")
    assert recorded.pk < AuditEvent.objects.get(action="face_check.started").pk


def test_a_failing_face_check_leaves_it_in_review_and_is_offered_only_so_often(
    bind, action_code, settings, faceid
):
    settings.FACE_CHECKS_PER_REQUEST = 2
    user = BorrowerFactory(phone=RESERVED)
    identity_verify(actor=user, real_name="张三", id_number=ids.FACE_FAILS)
    card = held_unbind(bind, action_code, user)
    for _ in range(2):
        with pytest.raises(StepUpRefused, match="compliance team") as refused:
            face_check(user, card, faceid)
        assert refused.value.code == "face_mismatch"
    card.refresh_from_db()
    case = ReviewCase.objects.get()
    assert card.status == "pending_review" and case.status == "open"
    assert list(FaceCheck.objects.values_list("status", flat=True)) == ["failed", "failed"]
    rows = {str(label): str(value) for label, value in card_summary(case)}  # the officer sees the tries
    assert (rows["Borrower's face check"], rows["Face similarity (pass at 70)"]) == ("Did not pass", "38.50")
    assert rows["Face checks that did not pass"] == "2"
    assert step_up_case(user, card) is None
    with pytest.raises(StepUpRefused) as refused:
        step_up_face_start(
            actor=user, card=card, consent=current_policy("biometrics", "en"), return_url=RETURN_URL
        )
    assert refused.value.code == "not_offered" and len(faceid.calls("DetectAuth")) == 2
    # the officers still decide it
    review_case_decide(
        actor=StaffFactory(role="officer"), case_id=case.pk, verdict="approve", reason="called"
    )
    card.refresh_from_db()
    assert card.status == "unbound"


def test_an_unfinished_face_check_changes_nothing(bind, action_code, borrower, faceid):
    card = held_unbind(bind, action_code, borrower)
    check = step_up_face_start(
        actor=borrower, card=card, consent=current_policy("biometrics", "en"), return_url=RETURN_URL
    )
    with pytest.raises(StepUpRefused, match="not finished"):
        step_up_face_finish(actor=borrower, biz_token=check.biz_token)
    card.refresh_from_db()
    assert card.status == "pending_review" and ReviewCase.objects.get().status == "open"
    assert face_check(borrower, card, faceid).status == "unbound"  # and it may be started again


def test_without_the_setting_there_is_no_step_up(bind, action_code, borrower, settings, faceid):
    settings.STEP_UP_FACE_CHECK = False
    card = held_unbind(bind, action_code, borrower)
    assert step_up_case(borrower, card) is None
    with pytest.raises(StepUpRefused, match="cannot clear"):
        step_up_face_start(
            actor=borrower, card=card, consent=current_policy("biometrics", "en"), return_url=RETURN_URL
        )
    assert not faceid.calls() and not Consent.objects.filter(document="biometrics").exists()


def test_another_borrowers_card_or_token_is_refused(bind, action_code, borrower, faceid):
    card = held_unbind(bind, action_code, borrower)
    check = step_up_face_start(
        actor=borrower, card=card, consent=current_policy("biometrics", "en"), return_url=RETURN_URL
    )
    faceid.finish(check.biz_token)
    stranger = BorrowerFactory()
    with pytest.raises(StepUpRefused, match="cannot clear"):
        step_up_face_start(
            actor=stranger, card=card, consent=current_policy("biometrics", "en"), return_url="x"
        )
    with pytest.raises(StepUpRefused, match="does not belong"):
        step_up_face_finish(actor=stranger, biz_token=check.biz_token)
    card.refresh_from_db()
    assert card.status == "pending_review"


def test_a_case_decided_meanwhile_is_not_cleared_again(bind, action_code, borrower, faceid):
    card = held_unbind(bind, action_code, borrower)
    check = step_up_face_start(
        actor=borrower, card=card, consent=current_policy("biometrics", "en"), return_url=RETURN_URL
    )
    case = ReviewCase.objects.get()
    review_case_decide(
        actor=StaffFactory(role="officer"), case_id=case.pk, verdict="reject", reason="takeover"
    )
    faceid.finish(check.biz_token)
    card = step_up_face_finish(actor=borrower, biz_token=check.biz_token)
    assert card.status == "active"  # the officer's rejection stands
    case.refresh_from_db()
    assert case.status == "rejected" and not AuditEvent.objects.filter(action="step_up.cleared").exists()


# Faults: the provider down or too slow never clears anything and never hangs.


@pytest.mark.parametrize("number", [ids.DOWN, ids.SLOW])
def test_the_provider_down_or_slow_at_the_start_leaves_it_in_review(bind, action_code, faceid, number):
    user = BorrowerFactory(phone=RESERVED)
    identity_row(user, number)
    card = held_unbind(bind, action_code, user)
    with pytest.raises(FaceCheckRefused, match="try again later"):
        step_up_face_start(
            actor=user, card=card, consent=current_policy("biometrics", "en"), return_url=RETURN_URL
        )
    card.refresh_from_db()
    assert card.status == "pending_review" and ReviewCase.objects.get().status == "open"
    assert not FaceCheck.objects.exists()
    assert step_up_case(user, card) is not None  # may be tried again later


def test_the_provider_unreachable_for_the_result_leaves_it_in_review(
    bind, action_code, borrower, faceid, settings
):
    card = held_unbind(bind, action_code, borrower)
    check = step_up_face_start(
        actor=borrower, card=card, consent=current_policy("biometrics", "en"), return_url=RETURN_URL
    )
    faceid.finish(check.biz_token)
    settings.FACEID_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(FaceCheckRefused, match="try again later"):
        step_up_face_finish(actor=borrower, biz_token=check.biz_token)
    check.refresh_from_db()
    card.refresh_from_db()
    assert check.status == "pending" and card.status == "pending_review"


# The pages


def test_the_borrower_chooses_the_face_check_on_the_page_that_says_it_waits(
    bind, action_code, borrower, faceid, sign_in
):
    card = held_unbind(bind, action_code, borrower)
    client = sign_in(borrower)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = unescape(client.get("/cards/").content.decode())
    assert "Or confirm it's you with a face check now" in page
    assert f"/cards/{card.pk}/face-check/" in page

    form = client.get(f"/cards/{card.pk}/face-check/")
    assert form.status_code == 200 and "facial information" in form.content.decode()
    assert client.post(f"/cards/{card.pk}/face-check/", {}).status_code == 400  # the consent is required
    assert not faceid.calls()
    response = client.post(f"/cards/{card.pk}/face-check/", {"consent": "on"})
    assert response.status_code == 302 and response.url == f"/cards/{card.pk}/face-check/go/"
    check = FaceCheck.objects.get()
    go = client.get(response.url).content.decode()
    assert check.liveness_url.replace("&", "&amp;") in go
    faceid.finish(check.biz_token)
    back = client.get("/cards/face-check/back/", {"token": check.biz_token}, follow=True)
    assert "The face check passed" in back.content.decode()
    card.refresh_from_db()
    assert card.status == "unbound"


def test_the_unbind_page_offers_the_face_check_when_it_holds_the_card(bind, action_code, borrower, sign_in):
    card = bind(borrower)
    phone_just_changed(borrower)
    client = sign_in(borrower)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    code = action_code(borrower, "card_unbind", card.pk)
    page = unescape(client.post(f"/cards/{card.pk}/unbind/", {"code": code}, follow=True).content.decode())
    assert "needs a check by our compliance team" in page  # the page that says it waits offers it
    assert "Or confirm it's you with a face check now" in page and f"/cards/{card.pk}/face-check/" in page


def test_no_offer_on_the_page_without_the_setting(bind, action_code, borrower, sign_in, settings):
    settings.STEP_UP_FACE_CHECK = False
    card = held_unbind(bind, action_code, borrower)
    client = sign_in(borrower)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "face check" not in client.get("/cards/").content.decode()
    assert client.get(f"/cards/{card.pk}/face-check/").status_code == 302


def test_the_step_up_leaves_no_number_name_or_face_data_behind(bind, action_code, deliver, faceid, caplog):
    from accounts.tests.test_no_leaks import ALLOWED, NEEDLES, database_rows
    from cards.tests.sandbox_cards import GOOD_DEBIT
    from lending.pii import find_pii_in

    caplog.set_level(logging.DEBUG)
    name = "欧阳娜娜"
    user = BorrowerFactory(phone=RESERVED)
    identity_verify(actor=user, real_name=name, id_number=ids.MATCH)
    card = held_unbind(bind, action_code, user)
    with deliver():
        assert face_check(user, card, faceid).status == "unbound"

    secrets = (*NEEDLES, GOOD_DEBIT, name)  # (find_pii would take a task's runtime for a card number)
    for log in caplog.records:
        text = log.getMessage() + (log.exc_text or "") + str(log.args)
        assert not any(secret in text for secret in secrets), text
    for data in AuditEvent.objects.values_list("data", flat=True):
        assert not find_pii_in(data) and name not in json.dumps(data, ensure_ascii=False), data
    named = {("accounts_identity", "real_name"), ("accounts_historicalidentity", "real_name")}
    for table, row in database_rows():
        for column, value in row.items():
            if (table, column) in ALLOWED:
                continue
            assert not any(needle in str(value) for needle in (*NEEDLES, GOOD_DEBIT)), (table, column)
            holder = table.startswith("cards_") and column == "holder_name"  # the card's, by design
            assert (table, column) in named or holder or name not in str(value), (table, column)
            assert not str(value).startswith(("data:image", "/9j/", "iVBOR")), (table, column)
