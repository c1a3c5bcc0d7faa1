"""Reconcile one settlement date with the bank's statement files:
``manage.py reconcile_bank [--date YYYY-MM-DD]`` (the previous date in Beijing time)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from audit.context import system_job
from cards.models import ReconciliationBreak, ReconciliationRun
from cards.reconcile import BEIJING
from cards.services.reconciliation import reconciliation_run
from lending.errors import DomainError


class Command(BaseCommand):
    help = "Match a settlement date's bank statement with our debit attempts and mandates."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the settlement date, YYYY-MM-DD (yesterday in Beijing time)")

    def handle(self, *args, **options):
        try:
            day = (
                date.fromisoformat(options["date"])
                if options["date"]
                else timezone.localtime(timezone=BEIJING).date() - timedelta(days=1)
            )
        except ValueError:
            raise CommandError("--date must look like 2026-12-01") from None
        bars = []

        def progress(lines: int, total: int) -> None:
            if not bars:  # the file's line count is known once it is fetched and checked
                bars.append(tqdm(total=total, unit="line", file=self.stderr))
            bars[0].update(lines)

        try:
            with system_job("reconciliation"):
                run = reconciliation_run(settle_date=day, progress=progress)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        finally:
            for bar in bars:
                bar.close()
        self._summary(run)
        if run.status == ReconciliationRun.Status.FAILED:
            raise CommandError(f"{day}: the reconciliation failed ({run.error}); nothing was matched.")

    def _summary(self, run: ReconciliationRun) -> None:
        seconds = (run.finished_at - run.started_at).total_seconds()
        if run.status == ReconciliationRun.Status.FAILED:
            return
        style = self.style.SUCCESS if run.status == ReconciliationRun.Status.CLEAN else self.style.WARNING
        self.stdout.write(
            style(
                f"{run.settle_date}: {run.lines} statement lines, {run.matched} matched "
                f"(¥{run.matched_amount} collected), {run.agreements} agreements compared, "
                f"{run.breaks} differences, in {seconds:.1f} s."
            )
        )
        open_breaks = ReconciliationBreak.objects.filter(
            settle_date=run.settle_date, status=ReconciliationBreak.Status.OPEN
        )
        for kind, label in ReconciliationBreak.Kind.choices:
            count = open_breaks.filter(kind=kind).count()
            if count:
                self.stdout.write(f"  {label}: {count} open")
        if not run.statement_final:
            self.stdout.write("The bank's statement for this date is not final yet (the date is not over).")
