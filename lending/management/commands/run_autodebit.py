"""Run one collection synchronously: ``manage.py run_autodebit [--date YYYY-MM-DD] [--dry-run]``."""

from collections import Counter
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F, Sum
from django.utils import timezone
from tqdm import tqdm

from lending.models import DebitAttempt
from lending.services import loans_collect, loans_to_collect
from lending.services.collection import due_installments
from lending.tasks import chunks


def _outcome(attempt: DebitAttempt) -> str:
    if attempt.status == DebitAttempt.Status.SUCCEEDED:
        return "collected"
    if attempt.status == DebitAttempt.Status.PENDING:
        return "waiting"
    return "retried" if attempt.installment.next_attempt_at else "failed"


class Command(BaseCommand):
    help = "Collect the installments due by a date (today) through the repayment cards' mandates."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="collect what is due by this day, YYYY-MM-DD (today)")
        parser.add_argument("--dry-run", action="store_true", help="only show what would be collected")

    def handle(self, *args, **options):
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError:
            raise CommandError("--date must look like 2026-12-01") from None
        due = due_installments(day)
        owed = due.aggregate(amount=Sum(F("principal_due") + F("interest_due") - F("paid_amount")))["amount"]
        amount = Decimal(owed or 0).quantize(Decimal("0.01"))
        loans = loans_to_collect(day)
        loan_count = loans.count()
        self.stdout.write(f"{day}: {due.count()} installments of {loan_count} loans due, ¥{amount} in all.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was debited.")
            return
        outcomes = Counter()
        with tqdm(total=loan_count, unit="loan", file=self.stderr) as progress:
            for chunk in chunks(loans.iterator(chunk_size=5000), settings.AUTODEBIT_LOANS_PER_TASK):
                outcomes.update(_outcome(a) for a in loans_collect(loan_ids=chunk, day=day))
                progress.update(len(chunk))
        self.stdout.write(
            self.style.SUCCESS(
                f"Collected {outcomes['collected']}, failed {outcomes['failed']}, "
                f"to retry {outcomes['retried']}, waiting for the bank {outcomes['waiting']}."
            )
        )
