from celery import shared_task

from audit.context import system_job
from lending.celery import RETRYING
from privacy.services import account_closures_complete, data_copies_expire, data_copy_build


@shared_task(**RETRYING)
def build_data_copy(copy_id: int) -> str:
    with system_job("data-copy"):
        copy = data_copy_build(copy_id=copy_id)
    return copy.status if copy else "settled already"


@shared_task
def complete_due_closures() -> int:
    with system_job("account-closure"):
        return account_closures_complete()


@shared_task
def expire_data_copies() -> int:
    with system_job("data-copy-expiry"):
        return data_copies_expire()
