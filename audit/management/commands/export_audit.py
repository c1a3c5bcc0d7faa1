"""``manage.py export_audit --as USER --output FILE.zip [filters]``: an audit export from the shell.

The same archive, checks and audit event as the admin's export; a progress bar on stderr.
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from audit.exporting.sources import SOURCES
from audit.exporting.spec import FORMATS, ExportSpec
from audit.forms import user_named
from audit.services import ExportRefused, audit_export_stream


class Command(BaseCommand):
    help = "Export audit events and history to a zip with a signed manifest."

    def add_arguments(self, parser):
        today = timezone.localdate()
        parser.add_argument(
            "--as", dest="staff", required=True, help="username of the staff member exporting"
        )
        parser.add_argument("--output", required=True, help="the zip file to write")
        parser.add_argument("--source", action="append", choices=list(SOURCES), help="repeatable (events)")
        parser.add_argument(
            "--from", dest="date_from", type=date.fromisoformat, default=today - timedelta(days=30)
        )
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat, default=today)
        parser.add_argument("--action", action="append", default=[], help="repeatable; events only")
        parser.add_argument("--actor", help="user id, mobile number or username")
        parser.add_argument("--borrower", help="user id or mobile number")
        parser.add_argument("--subject-type", default="")
        parser.add_argument("--subject-id", default="")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--unmasked", action="store_true", help="needs the export_unmasked permission")

    def _user_id(self, text):
        if not text:
            return None
        user = user_named(text)
        if user is None:
            raise CommandError("no user has this id, mobile number or username")
        return user.pk

    def handle(self, *args, **options):
        staff = user_named(options["staff"])
        if staff is None or not staff.is_staff:
            raise CommandError(f"no staff member {options['staff']!r}")
        try:
            spec = ExportSpec(
                sources=tuple(options["source"] or ["events"]),
                date_from=options["date_from"],
                date_to=options["date_to"],
                format=options["format"],
                actions=tuple(options["action"]),
                actor_id=self._user_id(options["actor"]),
                subject_type=options["subject_type"],
                subject_id=options["subject_id"],
                borrower_id=self._user_id(options["borrower"]),
                unmasked=options["unmasked"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        with tqdm(unit=" rows", disable=None, file=self.stderr) as bar:

            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)

            try:
                chunks = audit_export_stream(actor=staff, spec=spec, progress=progress)
            except ExportRefused as exc:
                raise CommandError(exc.message) from None
            with open(options["output"], "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
        self.stdout.write(
            f"Wrote {options['output']}; check it with: manage.py verify_export {options['output']}"
        )
