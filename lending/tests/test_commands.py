import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_static.models import StaticToken

from accounts.models import User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_refreshes_backup_codes(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    first = capsys.readouterr().out
    first_codes = set(StaticToken.objects.values_list("token", flat=True))
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert sorted(User.objects.filter(is_staff=True).values_list("username", flat=True)) == [
        "auditor",
        "officer",
    ]
    borrower = User.objects.get(is_staff=False)
    assert (
        str(borrower.phone) == "+8613800138000" and borrower.identity.id_number_masked == "110***********1239"
    )
    assert borrower.consents.get().document == "privacy"
    assert User.objects.get(username="officer").groups.get().name == "Compliance officers"
    assert User.objects.get(username="auditor").groups.get().name == "Auditors"
    second_codes = set(StaticToken.objects.values_list("token", flat=True))
    assert len(second_codes) == 20 and not first_codes & second_codes
    assert "officer-demo-pass" in first and "otpauth://" in second
    assert any(code in second for code in second_codes)
    assert list(AuditEvent.objects.values_list("action", "actor_label").order_by("id")) == [
        ("user.registered", "138****8000"),
        ("consent.recorded", "138****8000"),
        ("identity.verified", "138****8000"),
        ("staff.create", "seed_demo"),
        ("staff.create", "seed_demo"),
        ("staff.backup_codes_reset", "seed_demo"),
        ("staff.backup_codes_reset", "seed_demo"),
    ]


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()
