"""``manage.py audit_checkpoint [--dir DIR]``: seal what is old enough, then write a signed checkpoint."""

from django.core.management.base import BaseCommand

from audit.checkpoint import checkpoint_write
from audit.services import audit_events_seal


class Command(BaseCommand):
    help = "Seal the audit events old enough and write a signed checkpoint of the chain head."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="where to write it (AUDIT_CHECKPOINT_DIR)")

    def handle(self, *args, dir=None, **options):
        sealed = audit_events_seal()
        path = checkpoint_write(dir)
        self.stdout.write(
            f"Sealed {sealed} events; " + (f"checkpoint {path}" if path else "nothing sealed yet.")
        )
