from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from audit.context import system_job
from cards.gateways import get_gateway
from cards.reconcile import BEIJING
from cards.services import mandate_revoke_at_bank
from cards.services.notices import bank_notice_apply, bank_notices_waiting
from cards.services.reconciliation import reconciliation_run
from lending.celery import RETRYING
from lending.crypto import decrypt


@shared_task(**RETRYING)
def revoke_mandate(mandate_id: int) -> bool:
    """After an unbind commits: end the mandate at the bank (retried while it does not answer)."""
    with system_job("mandate-revoker"):
        return mandate_revoke_at_bank(mandate_id=mandate_id)


@shared_task(**RETRYING)
def revoke_orphan_token(token_encrypted: str) -> None:
    """A token issued for a binding that lost a race: revoke it at the bank (revoking is idempotent)."""
    get_gateway().revoke(token=decrypt(token_encrypted))


@shared_task(**RETRYING)
def apply_bank_notice(notice_id: int) -> str:
    """After a bank notice is stored: apply it (applying it again changes nothing)."""
    with system_job("bank-notices"):
        return bank_notice_apply(notice_id=notice_id)


@shared_task
def apply_waiting_bank_notices() -> int:
    """Beat: apply again the notices still waiting (a debit result that came before its attempt)."""
    with system_job("bank-notices"):
        return sum(bank_notice_apply(notice_id=pk) != "received" for pk in bank_notices_waiting())


@shared_task(**RETRYING)
def reconcile_bank_statement(settle_date: str = "") -> str:
    """Beat, each morning: reconcile the previous settlement date (Beijing time), or the one given."""
    day = (
        date.fromisoformat(settle_date)
        if settle_date
        else timezone.localtime(timezone=BEIJING).date() - timedelta(days=1)
    )
    with system_job("reconciliation"):
        return reconciliation_run(settle_date=day).status
