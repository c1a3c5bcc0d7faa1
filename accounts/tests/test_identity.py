import logging

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Identity, Notification, PhoneCheck
from accounts.services import AccountFrozen, IdentityRefused, account_freeze, identity_verify
from accounts.tests import identity_numbers as ids
from accounts.tests.factories import BorrowerFactory
from audit.models import AuditEvent, RiskAlert

pytestmark = pytest.mark.django_db

ADULT = "110105199003071239"
MINOR = "110105201001014564"


def test_identity_is_stored_encrypted_fingerprinted_and_masked(faceid):
    borrower = BorrowerFactory()
    identity = identity_verify(actor=borrower, real_name=" 张三 ", id_number=ADULT.lower())
    identity.refresh_from_db()
    assert identity.real_name == "张三"
    assert identity.id_number == ADULT and ADULT not in identity.id_number_encrypted
    assert identity.id_number_masked == "110***********1239"
    assert identity.birth_date.isoformat() == "1990-03-07"
    event = AuditEvent.objects.get()
    [check] = faceid.calls("IdCardVerification")
    [carrier] = faceid.calls("PhoneVerification")
    assert (check["id_masked"], check["result"]) == ("110***********1239", "0")
    assert (event.action, event.data) == (
        "identity.verified",
        {
            "id_number": "110***********1239",
            "provider_request_id": check["request_id"],
            "phone_check": "match",
            "phone_check_request_id": carrier["request_id"],
        },
    )
    phone_check = PhoneCheck.objects.get()
    assert (phone_check.purpose, phone_check.outcome, phone_check.phone_masked) == (
        "identity",
        "match",
        borrower.masked_phone,
    )
    assert identity.history.get().history_change_reason == "identity verified"
    assert Notification.objects.get(user=borrower).kind == "identity_verified"


def test_one_account_per_identity_and_the_refusal_is_recorded():
    identity_verify(actor=BorrowerFactory(), real_name="张三", id_number=ADULT)
    second = BorrowerFactory()
    with pytest.raises(IdentityRefused, match="another account"):
        identity_verify(actor=second, real_name="张三", id_number=ADULT)
    assert not Identity.objects.filter(user=second).exists()
    refused = AuditEvent.objects.get(action="identity.refused")
    assert refused.actor == second and refused.data == {"id_number": "110***********1239"}


def test_one_identity_per_account():
    borrower = BorrowerFactory()
    identity_verify(actor=borrower, real_name="张三", id_number=ADULT)
    with pytest.raises(IdentityRefused, match="already verified"):
        identity_verify(actor=borrower, real_name="李四", id_number="310101198506152345")


@pytest.mark.parametrize(
    "name, number, message",
    [
        ("张三", MINOR, "18 years"),
        ("张三", "110105199003071238", "last character"),
        ("张三", "1101051990", "18 characters"),
        ("张三", "110105199013071239", "not valid"),
        ("张3", ADULT, "exactly as on your ID card"),
        ("张\u200b三", ADULT, "cannot be shown"),
        ("<script>", ADULT, "exactly as on your ID card"),
    ],
)
def test_bad_identities_are_refused_with_a_reason(name, number, message):
    with pytest.raises(ValidationError, match=message):
        identity_verify(actor=BorrowerFactory(), real_name=name, id_number=number)
    assert not Identity.objects.exists() and not AuditEvent.objects.exists()


def test_minority_names_with_a_middle_dot_are_accepted():
    identity = identity_verify(actor=BorrowerFactory(), real_name="阿依古丽·买买提", id_number=ADULT)
    assert identity.real_name == "阿依古丽·买买提"


def test_a_frozen_account_cannot_verify():
    borrower = BorrowerFactory()
    account_freeze(actor=borrower, user=borrower, reason="test")
    with pytest.raises(AccountFrozen):
        identity_verify(actor=borrower, real_name="张三", id_number=ADULT)


# The check with the authority (through the FaceID simulator)

MISMATCH_MESSAGE = "do not match the official records"


@pytest.mark.parametrize("number, outcome", [(ids.MISMATCH, "mismatch"), (ids.NOT_FOUND, "not_found")])
def test_an_identity_the_authority_does_not_confirm_is_refused_and_nothing_is_saved(faceid, number, outcome):
    borrower = BorrowerFactory()
    with pytest.raises(IdentityRefused, match=MISMATCH_MESSAGE) as refused:
        identity_verify(actor=borrower, real_name="张三", id_number=number)
    assert refused.value.code == "mismatch"
    assert "name is" not in refused.value.message and "number is" not in refused.value.message
    assert not Identity.objects.exists()
    [check] = faceid.calls("IdCardVerification")
    event = AuditEvent.objects.get()
    assert event.action == "identity.mismatch" and event.actor == borrower
    assert event.data == {
        "id_number": Identity.masked(number),
        "outcome": outcome,
        "provider_request_id": check["request_id"],
    }


def test_repeated_mismatches_raise_an_alert_and_are_then_refused_without_asking(faceid, settings):
    settings.IDENTITY_MISMATCHES_PER_DAY = 3
    settings.RISK_IDENTITY_MISMATCHES_DAY = 2
    borrower = BorrowerFactory()
    for _try in range(3):
        with pytest.raises(IdentityRefused, match=MISMATCH_MESSAGE):
            identity_verify(actor=borrower, real_name="张三", id_number=ids.MISMATCH)
    alert = RiskAlert.objects.get()
    assert (alert.rule, alert.borrower_id, alert.severity) == ("identity_mismatches", borrower.pk, "high")
    with pytest.raises(IdentityRefused, match="Too many") as refused:
        identity_verify(actor=borrower, real_name="张三", id_number=ADULT)
    assert refused.value.code == "too_many_mismatches"
    assert len(faceid.calls("IdCardVerification")) == 3  # the fourth try cost nothing
    assert not Identity.objects.exists()


@pytest.mark.parametrize("number", [ids.DOWN, ids.SLOW])
def test_a_provider_that_does_not_answer_means_try_again_later_and_nothing_changes(faceid, number, caplog):
    borrower = BorrowerFactory()
    with pytest.raises(IdentityRefused, match="try again later") as refused:
        identity_verify(actor=borrower, real_name="张三", id_number=number)
    assert refused.value.code == "provider_unavailable"
    assert not Identity.objects.exists() and not AuditEvent.objects.exists()
    assert "identity check not answered" in caplog.text


def test_a_wrongly_signed_request_is_refused_by_the_provider(faceid, settings, caplog):
    settings.FACEID_SECRET_KEY = "not-the-key"
    with pytest.raises(IdentityRefused, match="try again later"):
        identity_verify(actor=BorrowerFactory(), real_name="张三", id_number=ADULT)
    assert "AuthFailure.SignatureFailure" in caplog.text and "FACEID_SECRET_KEY" in caplog.text
    assert not faceid.calls() and not Identity.objects.exists()


def test_an_id_number_of_another_account_is_refused_before_the_provider_is_asked(faceid):
    identity_verify(actor=BorrowerFactory(), real_name="张三", id_number=ADULT)
    with pytest.raises(IdentityRefused, match="another account"):
        identity_verify(actor=BorrowerFactory(), real_name="张三", id_number=ADULT)
    assert len(faceid.calls("IdCardVerification")) == 1


def test_no_name_or_id_number_reaches_the_logs(faceid, caplog):
    caplog.set_level(logging.DEBUG)
    identity_verify(actor=BorrowerFactory(), real_name="张三", id_number=ADULT)
    with pytest.raises(IdentityRefused):
        identity_verify(actor=BorrowerFactory(), real_name="李四", id_number=ids.MISMATCH)
    with pytest.raises(IdentityRefused):
        identity_verify(actor=BorrowerFactory(), real_name="王五", id_number=ids.DOWN)
    text = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in (ADULT, ids.MISMATCH, ids.DOWN, "张三", "李四", "王五"):
        assert secret not in text
    for event in AuditEvent.objects.all():
        for secret in (ADULT, ids.MISMATCH, "张三", "李四"):
            assert secret not in str(event.data)


def test_an_account_phone_in_someone_elses_name_is_recorded_and_does_not_refuse_the_identity(faceid):
    borrower = BorrowerFactory(phone="+8613800130990")  # the simulator: not in this name
    identity_verify(actor=borrower, real_name="张三", id_number=ADULT)
    check = PhoneCheck.objects.get(user=borrower)
    assert (check.outcome, check.phone_masked) == ("mismatch", "138****0990")
    assert AuditEvent.objects.get(action="identity.verified").data["phone_check"] == "mismatch"


def test_a_carrier_that_does_not_answer_leaves_the_phone_unconfirmed(faceid, settings):
    from accounts.services.phone_check import carrier_check, phone_check_record
    from conftest import free_port

    borrower = BorrowerFactory()
    settings.FACEID_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    result = carrier_check(name="张三", id_number=ADULT, phone=borrower.phone)
    assert result is None
    check = phone_check_record(user=borrower, purpose="identity", phone=borrower.phone, result=result)
    assert (check.outcome, check.provider_request_id) == ("unavailable", "")
