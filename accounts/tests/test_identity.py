import pytest
from django.core.exceptions import ValidationError

from accounts.models import Identity, Notification
from accounts.services import AccountFrozen, IdentityRefused, account_freeze, identity_verify
from accounts.tests.factories import BorrowerFactory
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ADULT = "110105199003071239"
MINOR = "110105201001014564"


def test_identity_is_stored_encrypted_fingerprinted_and_masked():
    borrower = BorrowerFactory()
    identity = identity_verify(actor=borrower, real_name=" 张三 ", id_number=ADULT.lower())
    identity.refresh_from_db()
    assert identity.real_name == "张三"
    assert identity.id_number == ADULT and ADULT not in identity.id_number_encrypted
    assert identity.id_number_masked == "110***********1239"
    assert identity.birth_date.isoformat() == "1990-03-07"
    event = AuditEvent.objects.get()
    assert (event.action, event.data) == ("identity.verified", {"id_number": "110***********1239"})
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
