import re

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.actions import Action
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_create_staff_prints_everything_needed_to_sign_in_once(capsys):
    call_command("create_staff", "li.officer", role="officer")
    out = capsys.readouterr().out

    user = User.objects.get(username="li.officer")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Compliance officers"]
    password = re.search(r"password:\s+(\S+)", out).group(1)
    assert user.check_password(password)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.config_url in out
    codes = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10 and all(code in out for code in codes)

    event = AuditEvent.objects.get()
    assert (event.action, event.actor_kind, event.actor_label) == (
        Action.STAFF_CREATE,
        "system",
        "create_staff",
    )
    assert event.data == {"role": "officer"}
    assert user.history.get().history_change_reason == "staff created as officer"


def test_create_staff_refuses_a_taken_username():
    call_command("create_staff", "wang", role="auditor")
    with pytest.raises(CommandError, match="taken"):
        call_command("create_staff", "wang", role="support")
    assert AuditEvent.objects.count() == 1


def test_create_staff_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        call_command("create_staff", "zhao", role="janitor")
    assert not User.objects.exists()
