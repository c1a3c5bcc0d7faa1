"""``manage.py complete_account_closures``: close the accounts whose cooling-off period is over
now (what beat does hourly), e.g. in development with CLOSURE_COOLING_OFF_DAYS=0."""

from django.core.management.base import BaseCommand

from audit.context import system_job
from privacy.services import account_closures_complete


class Command(BaseCommand):
    help = "Close the accounts whose cooling-off period is over."

    def handle(self, *args, **options):
        with system_job("account-closure"):
            closed = account_closures_complete()
        self.stdout.write(f"{closed} account(s) closed")
