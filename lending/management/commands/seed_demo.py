"""Demo data for a newcomer's first look: a compliance officer and an auditor to sign in with.

Idempotent: a second run creates nothing new and gives each demo staff member fresh backup
codes (the old ones may have been used). Refused unless DEBUG is on.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import staff_backup_codes_reset, staff_create
from audit.context import system_job

DEMO_STAFF = (
    ("officer", "officer", "officer-demo-pass"),
    ("auditor", "auditor", "auditor-demo-pass"),
)


class Command(BaseCommand):
    help = "Create the demo officer and auditor (development only) and print how to sign in."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo makes demo logins with known passwords; it runs only with DEBUG on."
            )
        with system_job("seed_demo"):
            for username, role, password in DEMO_STAFF:
                self.stdout.write(self._ensure_staff(username, role, password))

    def _ensure_staff(self, username, role, password) -> str:
        user = User.objects.filter(username=username).first()
        if user is None:
            credentials = staff_create(actor=None, username=username, role=role, password=password)
            user, codes = credentials.user, credentials.backup_codes
        else:
            codes = staff_backup_codes_reset(actor=None, user=user)
        totp = TOTPDevice.objects.get(user=user)
        return "\n".join(
            [
                f"Back office {role}: http://127.0.0.1:8000/admin/",
                f"  username {username}  password {password}",
                f"  authenticator app: {totp.config_url}",
                f"  or a backup code: {'  '.join(codes[:3])}",
            ]
        )
