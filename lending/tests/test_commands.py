import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_static.models import StaticToken

from accounts.models import User
from audit.models import AuditEvent, ReviewCase

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
        "support",
    ]
    borrower = User.objects.get(phone="+8613800138000")
    assert borrower.identity.id_number_masked == "110***********1239"
    card, empty = borrower.cards.order_by("bound_at")  # two cards and one loan, however often it runs
    assert (card.status, card.is_repayment, card.last4) == ("active", True, "1234")
    assert (empty.status, empty.is_repayment, empty.last4) == ("active", False, "9995")
    assert borrower.loans.get().installments.count() == 24
    documents = sorted(borrower.consents.values_list("document", flat=True))
    assert documents == ["debit_authorisation", "debit_authorisation", "privacy"]  # one per card
    case = ReviewCase.objects.get()  # one open lost-phone case, however often it runs
    assert (case.kind, case.status, str(case.borrower.phone)) == ("phone_lost", "open", "+8613700137000")
    assert User.objects.get(username="officer").groups.get().name == "Compliance officers"
    assert User.objects.get(username="auditor").groups.get().name == "Auditors"
    assert User.objects.get(username="support").groups.get().name == "Support"
    second_codes = set(StaticToken.objects.values_list("token", flat=True))
    assert len(second_codes) == 30 and not first_codes & second_codes
    assert "officer-demo-pass" in first and "otpauth://" in second
    assert any(code in second for code in second_codes)
    staff_events = AuditEvent.objects.filter(action__startswith="staff.").order_by("id")
    assert list(staff_events.values_list("action", "actor_label")) == [
        ("staff.create", "seed_demo"),
        ("staff.create", "seed_demo"),
        ("staff.create", "seed_demo"),
        ("staff.backup_codes_reset", "seed_demo"),
        ("staff.backup_codes_reset", "seed_demo"),
        ("staff.backup_codes_reset", "seed_demo"),
    ]
    assert AuditEvent.objects.filter(action="user.registered").count() == 2


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()
