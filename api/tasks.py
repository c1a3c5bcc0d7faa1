from celery import shared_task

from api.services import api_records_purge


@shared_task
def purge_api_records() -> int:
    """Hourly (beat): idempotent answers, sign-in tickets and long-ended tokens that answer nothing."""
    return api_records_purge()
