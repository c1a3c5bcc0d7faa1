from celery import shared_task

from audit.context import system_job
from cards.gateways import get_gateway
from cards.services import mandate_revoke_at_bank
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
