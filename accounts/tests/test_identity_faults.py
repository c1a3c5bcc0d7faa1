"""The identity provider down (HTTP 503) or too slow (past FACEID_TIMEOUT) on every path that asks
it, with the simulator's own "provider down" and "too slow" ID numbers: nothing blocks past the
timeout, nothing passes by default, nothing half-done remains. (Identity verification: see
test_identity.py; the card step-up: cards/tests/test_step_up.py.)"""

import pytest

from accounts.models import FaceCheck, PhoneChange, PhoneCheck
from accounts.policies import current_policy
from accounts.services import (
    FaceCheckRefused,
    phone_change_confirm_new,
    phone_lost_confirm,
    phone_lost_face_finish,
    phone_lost_face_start,
    phone_lost_start,
)
from accounts.tests import identity_numbers as ids
from accounts.tests.factories import BorrowerFactory
from accounts.tests.helpers import FACE_RETURN_URL, identity_row
from accounts.tests.test_phone_change import set_new
from audit.models import AuditEvent, ReviewCase
from conftest import free_port

pytestmark = pytest.mark.django_db

OLD, NEW = "+8613800138000", "+8613900139000"
FAULTS = pytest.mark.parametrize("number", [ids.DOWN, ids.SLOW], ids=["down", "slow"])


def borrower_with(number):
    user = BorrowerFactory(phone=OLD)
    identity_row(user, number)
    return user


def lost_phone_proven(deliver, last_code, number):
    with deliver():
        change = phone_lost_start(
            phone=OLD, password="borrower-pass-123", real_name="张三", id_number=number, new_phone=NEW
        )
    with deliver():
        return change, phone_lost_confirm(change=change, code=last_code(NEW))


@FAULTS
def test_phone_change_the_carrier_not_answering_sends_it_to_review(deliver, last_code, faceid, number):
    user = borrower_with(number)
    change = set_new(deliver, last_code, user)
    with deliver():
        user = phone_change_confirm_new(actor=user, change=change, code=last_code(NEW))
    assert str(user.phone) == OLD and PhoneChange.objects.get().status == "in_review"
    check = PhoneCheck.objects.get(purpose="phone_change")
    assert (check.outcome, check.provider_request_id) == ("unavailable", "")
    assert ReviewCase.objects.get().kind == "phone_other_name"
    assert AuditEvent.objects.get(action="phone_change.to_review").data["phone_check"] == "unavailable"


@FAULTS
def test_lost_phone_the_face_check_not_starting_changes_nothing(deliver, last_code, faceid, number):
    borrower_with(number)
    change, case = lost_phone_proven(deliver, last_code, number)
    assert case is None
    with pytest.raises(FaceCheckRefused, match="try again later") as refused:
        phone_lost_face_start(
            change=change, consent=current_policy("biometrics", "en"), return_url=FACE_RETURN_URL
        )
    assert refused.value.code == "provider_unavailable"
    assert not FaceCheck.objects.exists() and not ReviewCase.objects.exists()
    assert PhoneChange.objects.get().status == "face_check"  # the borrower may try again later


def test_lost_phone_the_result_not_answering_opens_nothing(deliver, last_code, faceid, settings):
    borrower_with(ids.MATCH)
    change, _case = lost_phone_proven(deliver, last_code, ids.MATCH)
    check = phone_lost_face_start(
        change=change, consent=current_policy("biometrics", "en"), return_url=FACE_RETURN_URL
    )
    faceid.finish(check.biz_token)
    settings.LOST_PHONE_AUTO_APPROVE = True
    settings.FACEID_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(FaceCheckRefused, match="try again later"):
        phone_lost_face_finish(change=change, biz_token=check.biz_token)
    check.refresh_from_db()
    assert check.status == "pending" and not ReviewCase.objects.exists()
    assert PhoneChange.objects.get().status == "face_check"


@FAULTS
def test_lost_phone_without_the_face_check_the_carrier_not_answering_is_shown_and_never_approves(
    deliver, last_code, faceid, settings, number
):
    settings.LOST_PHONE_FACE_CHECK = False
    settings.LOST_PHONE_AUTO_APPROVE = True
    user = borrower_with(number)
    _change, case = lost_phone_proven(deliver, last_code, number)
    assert case.status == "open"  # with the officers
    assert PhoneCheck.objects.get(purpose="phone_lost").outcome == "unavailable"
    user.refresh_from_db()
    assert str(user.phone) == OLD
