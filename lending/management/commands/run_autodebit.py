"""Run one collection synchronously:
``manage.py run_autodebit [--date YYYY-MM-DD] [--follow-up] [--dry-run]``."""

from collections import Counter
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F, Sum
from django.utils import timezone
from tqdm import tqdm

from lending.models import DebitAttempt
from lending.services import installments_overdue_mark, loans_collect, loans_to_collect
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
        parser.add_argument(
            "--follow-up",
            action="store_true",
            help="after a crash: collect only what the morning run should have (marked as picked up late)",
        )
        parser.add_argument("--dry-run", action="store_true", help="only show what would be collected")

    def handle(self, *args, **options):
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError:
            raise CommandError("--date must look like 2026-12-01") from None
        trigger = DebitAttempt.Trigger.FOLLOW_UP if options["follow_up"] else DebitAttempt.Trigger.SCHEDULE
        due = due_installments(day, trigger)
        owed = due.aggregate(amount=Sum(F("principal_due") + F("interest_due") - F("paid_amount")))["amount"]
        amount = Decimal(owed or 0).quantize(Decimal("0.01"))
        loans = loans_to_collect(day, trigger)
        loan_count = loans.count()
        self.stdout.write(f"{day}: {due.count()} installments of {loan_count} loans due, ¥{amount} in all.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was debited.")
            return
        overdue = installments_overdue_mark(day=day)  # earlier days' close, in case its run was missed
        outcomes, late, started = Counter(), set(), timezone.now()
        with tqdm(total=loan_count, unit="loan", file=self.stderr) as progress:
            for chunk in chunks(loans.iterator(chunk_size=5000), settings.AUTODEBIT_LOANS_PER_TASK):
                for attempt in loans_collect(loan_ids=chunk, day=day, trigger=trigger):
                    outcomes[_outcome(attempt)] += 1
                    outcomes["resent"] += bool(attempt.resent_at and attempt.resent_at >= started)
                    if attempt.trigger == DebitAttempt.Trigger.FOLLOW_UP and attempt.created_at >= started:
                        late.add(attempt.installment.loan_id)
                progress.update(len(chunk))
        self.stdout.write(
            self.style.SUCCESS(
                f"Collected {outcomes['collected']}, failed {outcomes['failed']}, "
                f"to retry {outcomes['retried']}, waiting for the bank {outcomes['waiting']}."
            )
        )
        self.stdout.write(
            f"Sent again (the bank had not received them): {outcomes['resent']}. "
            f"Loans picked up late: {len(late)}. Installments marked overdue: {overdue}."
        )
