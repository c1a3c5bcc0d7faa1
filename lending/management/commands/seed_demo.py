"""Demo data for a newcomer's first look: a borrower with a verified identity, an officer, an auditor.

Idempotent: a second run creates nothing new and gives each demo staff member fresh backup
codes (the old ones may have been used). Refused unless DEBUG is on.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.policies import current_policy
from accounts.services import borrower_create, identity_verify, staff_backup_codes_reset, staff_create
from audit.context import system_job

DEMO_STAFF = (
    ("officer", "officer", "officer-demo-pass"),
    ("auditor", "auditor", "auditor-demo-pass"),
)
DEMO_BORROWER = {
    "phone": "+8613800138000",
    "password": "borrower-demo-pass",
    "real_name": "张三",
    "id_number": "110105199003071239",
}


class Command(BaseCommand):
    help = "Create the demo borrower, officer and auditor (development only) and print how to sign in."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo makes logins with known passwords; it runs only with DEBUG on.")
        with system_job("seed_demo"):
            self.stdout.write(self._ensure_borrower())
            for username, role, password in DEMO_STAFF:
                self.stdout.write(self._ensure_staff(username, role, password))

    def _ensure_borrower(self) -> str:
        demo = DEMO_BORROWER
        borrower = User.objects.filter(phone=demo["phone"]).first()
        if borrower is None:
            borrower = borrower_create(
                phone=demo["phone"],
                password=demo["password"],
                privacy=current_policy("privacy", settings.LANGUAGE_CODE),
                language=settings.LANGUAGE_CODE,
            )
            identity_verify(actor=borrower, real_name=demo["real_name"], id_number=demo["id_number"])
        return "\n".join(
            [
                "Borrower portal: http://127.0.0.1:8000/accounts/login/",
                f"  mobile 138 0013 8000  password {demo['password']}",
                "  SMS codes appear at http://127.0.0.1:8000/dev/sms/",
            ]
        )

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
