from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ROLES
from accounts.services import staff_create
from audit.context import system_job
from lending.errors import DomainError


class Command(BaseCommand):
    help = "Create a back-office user in a role, with a TOTP device and one-time backup codes."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLES))
        parser.add_argument("--email", default="", help="Where review notices go (officers)")

    def handle(self, *args, username, role, email, **options):
        with system_job("create_staff"):
            try:
                credentials = staff_create(actor=None, username=username, role=role, email=email)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(format_credentials(credentials))


def format_credentials(credentials) -> str:
    lines = [
        f"username:       {credentials.user.username}",
        f"password:       {credentials.password}",
        f"authenticator:  {credentials.otpauth_uri}",
        "backup codes (each works once, in place of an authenticator code):",
        *(f"  {code}" for code in credentials.backup_codes),
    ]
    return "\n".join(lines)
