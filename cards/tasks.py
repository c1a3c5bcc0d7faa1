from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from audit.context import system_job
from cards.gateways import get_gateway
from cards.models import Mandate
from cards.reconcile import BEIJING
from cards.services import mandate_revoke_at_bank
from cards.services.binding import signup_agreement_end
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
def revoke_orphan_token(token_encrypted: str) -> bool:
    """A token issued for a binding that did not become a mandate: revoke it at the bank (revoking
    is idempotent). Never one a mandate holds."""
    token = decrypt(token_encrypted)
    if Mandate.objects.filter(token_fingerprint=Mandate.fingerprint_of(token)).exists():
        return False
    get_gateway().revoke(token=token)
    return True


@shared_task(**RETRYING)
def end_signup_agreement(request_id: int) -> bool:
    """A binding closed while its sign-up was confirmed at the bank: end that agreement there."""
    with system_job("bind-cleanup"):
        return signup_agreement_end(request_id=request_id)


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
