"""Back-office staff accounts."""

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import ROLES
from audit.actions import Action
from audit.services import record
from lending.errors import DomainError

BACKUP_CODE_COUNT = 10


@dataclass(frozen=True)
class StaffCredentials:
    """What a new staff member needs once; none of it can be read back later."""

    user: User
    password: str
    otpauth_uri: str
    backup_codes: list[str]


def _new_backup_codes(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, name="backup")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def staff_create(
    *, actor: User | None, username: str, role: str, email: str = "", password: str | None = None
):
    """Create a staff member in a role group, with a TOTP device and backup codes."""
    if role not in ROLES:
        raise DomainError(_("Unknown role %(role)s.") % {"role": role}, code="unknown_role")
    if User.objects.filter(username=username).exists():
        raise DomainError(_("That username is taken."), code="username_taken")
    password = password or secrets.token_urlsafe(18)
    user = User(username=username, email=email, is_staff=True)
    user.set_password(password)
    user._change_reason = f"staff created as {role}"
    user.save()
    user.groups.add(Group.objects.get(name=ROLES[role].group))
    totp = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    codes = _new_backup_codes(user)
    record(action=Action.STAFF_CREATE, actor=actor, subject=user, data={"role": role})
    return StaffCredentials(user=user, password=password, otpauth_uri=totp.config_url, backup_codes=codes)


@transaction.atomic
def staff_backup_codes_reset(*, actor: User | None, user: User) -> list[str]:
    """Replace a staff member's backup codes with fresh ones; the old ones stop working."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_staff:
        raise DomainError(_("Backup codes are for staff accounts."), code="not_staff")
    codes = _new_backup_codes(user)
    record(action=Action.STAFF_BACKUP_CODES_RESET, actor=actor, subject=user)
    return codes
