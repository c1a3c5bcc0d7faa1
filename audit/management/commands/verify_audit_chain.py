"""``manage.py verify_audit_chain [--since YYYY-MM-DD] [--until YYYY-MM-DD]``: recompute the chain."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoint import checkpoint_check
from audit.verify import chain_verify


class Command(BaseCommand):
    help = "Recompute the sealed audit chain; print OK with counts and the head hash, or the first break."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=date.fromisoformat, help="only blocks with events from this day")
        parser.add_argument("--until", type=date.fromisoformat, help="only blocks with events up to this day")
        parser.add_argument("--checkpoint", help="also check the chain against this signed checkpoint file")

    def handle(self, *args, since=None, until=None, checkpoint=None, **options):
        verdict = chain_verify(since=since, until=until)
        mismatch = checkpoint_check(checkpoint) if checkpoint else None
        if mismatch and not verdict.broken:
            raise CommandError(f"BROKEN against the checkpoint: {mismatch}", returncode=1)
        if verdict.broken:
            raise CommandError(
                f"BROKEN at {verdict.broken} (after {verdict.blocks} good blocks)", returncode=1
            )
        self.stdout.write(
            f"OK: {verdict.blocks} blocks, {verdict.events} events sealed, "
            f"{verdict.unsealed} not sealed yet; head {verdict.head or '-'}"
        )
