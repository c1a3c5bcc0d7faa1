"""Settings for the test suite: the real settings on PostgreSQL, with a fast password hasher."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lending")

from lending.settings import *  # noqa: E402, F403
from lending.settings import DATABASES  # noqa: E402

# Tests create many users; the production hasher would take most of the suite's time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Worker threads in the Celery tests close their connections after each task.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Texts go to a list the tests read (accounts.sms.LocmemBackend.outbox).
SMS_BACKEND = "accounts.sms.LocmemBackend"
# No back-off between wrong codes, so tests need no waiting; the back-off has its own test.
SMS_CODE_THROTTLE_FACTOR = 0
