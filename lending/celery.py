"""The Celery app. Configuration comes from Django settings (``CELERY_`` names).

Tasks take ids, are idempotent, and retry with backoff (``RETRYING``). The backoff never
grows past RETRY_BACKOFF_MAX: longer waits are stored in the database and picked up by
beat, because Redis redelivers any unacknowledged task after its visibility timeout.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lending.settings")

app = Celery("lending")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

RETRY_BACKOFF_MAX = 600

RETRYING = {
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": 10,
}
