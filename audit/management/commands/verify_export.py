"""``manage.py verify_export FILE [--public-key KEY]``: check an export against its manifest.

FILE is the downloaded zip, or the manifest.json of an unpacked one. Needs no database: an
auditor checks at home with the platform's published public key.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.exporting.manifest import export_check


class Command(BaseCommand):
    help = "Check an audit export's files against its signed manifest; exit 1 on any difference."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="the export's zip, or its manifest.json")
        parser.add_argument("--public-key", help="base64 Ed25519 public key (default: this platform's)")

    def handle(self, *args, path, public_key=None, **options):
        payload, problems = export_check(path, public_key=public_key)
        if problems:
            raise CommandError("BROKEN: " + "; ".join(problems), returncode=1)
        head = payload["chain_head"]
        rows = sum(file["rows"] for file in payload["files"])
        self.stdout.write(
            f"OK: {len(payload['files'])} files, {rows} rows as signed by {payload['requested_by']} "
            f"at {payload['written_at']}; chain head "
            + (f"block {head['block']} {head['hash']}" if head else "- (nothing sealed yet)")
        )
