"""Path b: the old phone is lost; an officer reviews the request."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Consent, FaceCheck, Notification, PhoneChange, PhoneCheck, SmsCodeSend
from accounts.policies import CURRENT, current_policy
from accounts.review_kinds import lost_phone_summary
from accounts.services import (
    FaceCheckRefused,
    LoginRefused,
    LostPhoneRefused,
    PhoneChangeRefused,
    identity_verify,
    phone_change_start,
    phone_lost_cancel,
    phone_lost_confirm,
    phone_lost_face_finish,
    phone_lost_face_start,
    phone_lost_start,
    phone_lost_submit,
)
from accounts.tests import identity_numbers as ids
from accounts.tests.factories import BorrowerFactory, StaffFactory
from accounts.tests.helpers import FACE_RETURN_URL, face_check, wrong
from audit.models import AuditEvent, ReviewCase
from audit.services import ReviewActionFailed, review_case_decide
from conftest import free_port

pytestmark = pytest.mark.django_db

OLD, NEW = "+8613800138000", "+8613900139000"
ID_NUMBER = "110105199003071239"


@pytest.fixture
def borrower():
    borrower = BorrowerFactory(phone=OLD)
    identity_verify(actor=borrower, real_name="张三", id_number=ID_NUMBER)
    return borrower


def start(deliver, **overrides):
    details = {
        "phone": OLD,
        "password": "borrower-pass-123",
        "real_name": "张三",
        "id_number": ID_NUMBER,
        "new_phone": NEW,
    }
    with deliver():
        return phone_lost_start(**{**details, **overrides})


def submit(deliver, last_code, faceid):
    change = start(deliver)
    with deliver():
        assert phone_lost_confirm(change=change, code=last_code(NEW)) is None  # the face check is next
        return face_check(change, faceid)


def test_the_request_goes_to_review_and_approval_changes_the_number(
    deliver, last_code, sms_outbox, borrower, faceid
):
    case = submit(deliver, last_code, faceid)

    assert (case.kind, case.status, case.borrower, case.requested_by) == (
        "phone_lost",
        "open",
        borrower,
        borrower,
    )
    assert case.reasons[0]["code"] == "old_phone_lost"
    change = PhoneChange.objects.get()
    assert (change.path, change.status) == ("lost_phone", "in_review")
    to_new = [sms for sms in sms_outbox if sms.to == NEW]
    assert str(case.pk) in to_new[-1].body  # "we received it"
    borrower.refresh_from_db()
    assert str(borrower.phone) == OLD  # nothing changes before the review

    with deliver():
        review_case_decide(
            actor=StaffFactory(role="officer"), case_id=case.pk, verdict="approve", reason="ID photo matches"
        )

    borrower.refresh_from_db()
    assert str(borrower.phone) == NEW
    assert PhoneChange.objects.get().status == "completed"
    assert (
        borrower.history.latest().history_change_reason
        == f"phone changed after review case #{case.pk} (path b)"
    )
    assert {sms.to for sms in sms_outbox[-2:]} == {OLD, NEW}  # the old number is told, the new one approved
    assert Notification.objects.filter(user=borrower, kind="phone_changed").exists()


def test_the_old_number_is_told_when_the_request_is_filed(deliver, last_code, sms_outbox, borrower, faceid):
    submit(deliver, last_code, faceid)
    told = sms_outbox[-1]
    assert told.to == OLD and "139****9000" in told.body and "13900139000" not in told.body
    assert "此手机丢失" in told.body  # in the borrower's language


def test_rejection_tells_the_borrower_why(deliver, last_code, sms_outbox, borrower, faceid):
    case = submit(deliver, last_code, faceid)
    with deliver():
        review_case_decide(
            actor=StaffFactory(role="officer"),
            case_id=case.pk,
            verdict="reject",
            reason="the ID photo is blurred",
        )
    borrower.refresh_from_db()
    assert str(borrower.phone) == OLD
    assert PhoneChange.objects.get().status == "rejected"
    assert "the ID photo is blurred" in sms_outbox[-1].body and sms_outbox[-1].to == NEW
    assert Notification.objects.get(user=borrower, kind="phone_lost_rejected").params == {
        "reason": "the ID photo is blurred"
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"password": "wrong"},
        {"real_name": "李四"},
        {"id_number": "310101198506152345"},
        {"phone": "+8613711112222"},
    ],
)
def test_wrong_details_get_one_refusal_and_send_nothing(deliver, sms_outbox, borrower, overrides):
    with pytest.raises(LostPhoneRefused, match="do not match") as refused:
        start(deliver, **overrides)
    assert refused.value.code == "mismatch"
    assert sms_outbox == [] and not PhoneChange.objects.exists()


def test_an_identity_mismatch_is_recorded(deliver, borrower):
    with pytest.raises(LostPhoneRefused):
        start(deliver, real_name="李四")
    assert AuditEvent.objects.get(action="phone_lost.refused").data == {
        "phone": "138****8000",
        "new": "139****9000",
        "why": "mismatch",
    }


def test_wrong_passwords_here_count_towards_the_login_lock(deliver, settings, borrower):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LostPhoneRefused):
            start(deliver, password="wrong")
    with pytest.raises(LoginRefused, match="locked"):
        start(deliver)


def test_a_number_of_another_account_is_refused_after_its_code_and_before_review(
    deliver, last_code, sms_outbox, borrower
):
    BorrowerFactory(phone=NEW)
    change = start(deliver)  # answered like any number: a code goes to it
    assert sms_outbox[-1].to == NEW
    with pytest.raises(PhoneChangeRefused, match="cannot be bound"):
        phone_lost_confirm(change=change, code=last_code(NEW))
    assert not ReviewCase.objects.exists()
    assert PhoneChange.objects.get().status == "cancelled"
    assert AuditEvent.objects.get(action="phone_lost.refused").data["why"] == "taken"


def test_new_numbers_from_one_ip_are_limited(settings, deliver, borrower):
    from audit.context import RequestContext, bound_request

    settings.PHONE_NEW_NUMBERS_PER_IP_HOUR = 2
    with bound_request(RequestContext(request_id="r", ip="203.0.113.9")):
        for number in ("+8613900139001", "+8613900139002"):
            SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
            start(deliver, new_phone=number)
        with pytest.raises(PhoneChangeRefused, match="Too many new numbers"):
            start(deliver, new_phone="+8613900139003")


def test_a_wrong_code_keeps_it_out_of_review(deliver, last_code, borrower):
    change = start(deliver)
    with pytest.raises(Exception, match="wrong"):
        phone_lost_confirm(change=change, code=wrong(last_code(NEW)))
    assert not ReviewCase.objects.exists()


def test_withdrawing_cancels_the_case(deliver, last_code, borrower, faceid):
    case = submit(deliver, last_code, faceid)
    phone_lost_cancel(actor=borrower, change=PhoneChange.objects.get())
    case.refresh_from_db()
    assert case.status == "cancelled" and PhoneChange.objects.get().status == "cancelled"


def test_approval_fails_cleanly_when_the_number_was_taken_meanwhile(deliver, last_code, borrower, faceid):
    case = submit(deliver, last_code, faceid)
    BorrowerFactory(phone=NEW)
    with pytest.raises(ReviewActionFailed, match="cannot be bound"):
        review_case_decide(
            actor=StaffFactory(role="officer"), case_id=case.pk, verdict="approve", reason="ok"
        )
    case.refresh_from_db()
    assert case.status == "open" and PhoneChange.objects.get().status == "in_review"


def test_path_a_waits_while_a_lost_phone_request_is_in_review(deliver, last_code, borrower, faceid):
    submit(deliver, last_code, faceid)
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(PhoneChangeRefused, match="waiting for review"):
        phone_change_start(actor=borrower)


def test_risk_rules_raise_the_score(deliver, last_code, borrower, settings, faceid):
    from django.db import transaction

    from audit.actions import Action
    from audit.services import record

    with transaction.atomic():
        record(action=Action.IDENTITY_REFUSED, actor=borrower, subject=borrower)
    case = submit(deliver, last_code, faceid)
    assert [r["code"] for r in case.reasons] == ["old_phone_lost", "identity_reuse_attempt"]
    assert case.risk_score == 80 and case.approvals_needed == 2  # high risk: four eyes


def test_one_request_in_review_at_a_time(deliver, last_code, borrower, faceid):
    submit(deliver, last_code, faceid)
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(LostPhoneRefused, match="already waiting"):
        start(deliver, new_phone="+8613500135000")
    assert ReviewCase.objects.count() == 1


# The face check (LOST_PHONE_FACE_CHECK)


def proven(deliver, last_code):
    """A request whose new number is proven: it waits for the face check."""
    change = start(deliver)
    with deliver():
        assert phone_lost_confirm(change=change, code=last_code(NEW)) is None
    change.refresh_from_db()
    assert change.status == "face_check"
    return change


def test_the_case_opens_only_after_a_passing_face_check_and_shows_its_result(
    deliver, last_code, borrower, faceid
):
    change = proven(deliver, last_code)
    assert not ReviewCase.objects.exists()
    with pytest.raises(LostPhoneRefused, match="passing face check"):
        phone_lost_submit(change=change)
    case = face_check(change, faceid)

    check = FaceCheck.objects.get()
    [result_call] = faceid.calls("GetDetectInfoEnhanced")
    assert (check.status, check.similarity, check.result_request_id) == (
        "passed",
        Decimal("92.40"),
        result_call["request_id"],
    )
    assert check.phone_change == change and check.checked_at is not None
    submitted = AuditEvent.objects.get(action="phone_lost.submitted")
    assert submitted.data == {
        "case": case.pk,
        "phone_check": "match",
        "face_check": check.pk,
        "similarity": "92.40",
        "provider_request_id": result_call["request_id"],
    }
    rows = dict((str(label), str(value)) for label, value in lost_phone_summary(case))
    assert rows["Face check"] == "Passed" and rows["Face similarity (pass at 70)"] == "92.40"
    assert rows["New number at the carrier"] == "In the borrower's name"
    assert rows["Provider request id"] == result_call["request_id"] and rows["Face checked at"]


def test_the_biometrics_consent_is_recorded_before_the_provider_is_asked(
    deliver, last_code, borrower, faceid
):
    change = proven(deliver, last_code)
    face_check(change, faceid)
    consent = Consent.objects.get(user=borrower, document="biometrics")
    assert (
        consent.version == CURRENT["biometrics"]
        and consent.text_sha256 == current_policy("biometrics", "en").sha256
    )
    check = FaceCheck.objects.get()
    assert check.consent == consent
    [start_call] = faceid.calls("DetectAuth")
    assert consent.accepted_at.timestamp() < start_call["at"]
    recorded = AuditEvent.objects.get(action="consent.recorded", data__document="biometrics")
    started = AuditEvent.objects.get(action="face_check.started")
    assert recorded.pk < started.pk and started.data["consent"] == consent.pk


def test_a_consent_for_another_document_is_not_enough(deliver, last_code, borrower, faceid):
    change = proven(deliver, last_code)
    with pytest.raises(ValueError, match="biometrics"):
        phone_lost_face_start(
            change=change, consent=current_policy("privacy", "en"), return_url=FACE_RETURN_URL
        )
    assert not faceid.calls()


def test_a_failing_face_check_can_be_tried_again_then_ends_the_request(deliver, last_code, settings, faceid):
    settings.FACE_CHECKS_PER_REQUEST = 2
    borrower = BorrowerFactory(phone=OLD)
    identity_verify(actor=borrower, real_name="张三", id_number=ids.FACE_FAILS)
    change = start(deliver, id_number=ids.FACE_FAILS)
    with deliver():
        phone_lost_confirm(change=change, code=last_code(NEW))
    with pytest.raises(LostPhoneRefused, match="Try again") as first:
        face_check(change, faceid)
    assert first.value.code == "face_mismatch"
    with pytest.raises(LostPhoneRefused, match="request is closed") as second:
        face_check(change, faceid)
    assert second.value.code == "face_failed"
    assert not ReviewCase.objects.exists()
    assert PhoneChange.objects.get().status == "cancelled"
    assert list(FaceCheck.objects.values_list("status", "similarity")) == [("failed", Decimal("38.50"))] * 2
    assert AuditEvent.objects.get(action="phone_lost.refused").data["why"] == "face_failed"


def test_an_unfinished_face_check_opens_nothing(deliver, last_code, borrower, faceid):
    change = proven(deliver, last_code)
    check = phone_lost_face_start(
        change=change, consent=current_policy("biometrics", "en"), return_url=FACE_RETURN_URL
    )
    with pytest.raises(LostPhoneRefused, match="not finished"):
        phone_lost_face_finish(change=change, biz_token=check.biz_token)  # came back without the picture
    check.refresh_from_db()
    assert check.status == "unfinished" and not ReviewCase.objects.exists()
    assert PhoneChange.objects.get().status == "face_check"  # and may start again
    assert face_check(change, faceid).kind == "phone_lost"


def test_a_token_of_another_request_is_refused(deliver, last_code, borrower, faceid):
    change = proven(deliver, last_code)
    with pytest.raises(LostPhoneRefused, match="does not belong"):
        phone_lost_face_finish(change=change, biz_token="SOMEONEELSES")
    assert not faceid.calls()


def test_provider_down_at_the_face_check_changes_nothing(deliver, last_code, borrower, faceid, settings):
    change = proven(deliver, last_code)
    settings.FACEID_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(FaceCheckRefused, match="try again later"):
        phone_lost_face_start(
            change=change, consent=current_policy("biometrics", "en"), return_url=FACE_RETURN_URL
        )
    assert not FaceCheck.objects.exists() and PhoneChange.objects.get().status == "face_check"


def test_without_the_setting_the_case_opens_after_the_code(deliver, last_code, borrower, settings, faceid):
    settings.LOST_PHONE_FACE_CHECK = False
    change = start(deliver)
    with deliver():
        case = phone_lost_confirm(change=change, code=last_code(NEW))
    assert case.kind == "phone_lost" and not faceid.calls("DetectAuth")
    assert dict((str(k), str(v)) for k, v in lost_phone_summary(case))["Face check"] == "none"


def test_a_new_number_in_someone_elses_name_is_shown_on_the_case(deliver, last_code, borrower, faceid):
    other_name = "+8613900130990"  # the simulator: not in the borrower's name
    change = start(deliver, new_phone=other_name)
    with deliver():
        phone_lost_confirm(change=change, code=last_code(other_name))
    case = face_check(change, faceid)
    check = PhoneCheck.objects.get(purpose="phone_lost")
    assert (check.outcome, check.phone_masked, check.phone_change_id) == (
        "mismatch",
        "139****0990",
        change.pk,
    )
    rows = dict((str(label), str(value)) for label, value in lost_phone_summary(case))
    assert rows["New number at the carrier"] == "Not in the borrower's name"
    assert rows["Carrier check request id"] == check.provider_request_id
    assert AuditEvent.objects.get(action="phone_lost.submitted").data["phone_check"] == "mismatch"
