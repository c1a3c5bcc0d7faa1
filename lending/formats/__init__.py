"""Date and time formats (FORMAT_MODULE_PATH): every time is shown in TIME_ZONE (Asia/Shanghai)
with its UTC offset, so a reader abroad, or one comparing with a UTC log or export, is never
misled; and one format everywhere, so the review queue and the case page agree.

``local_datetime`` and ``local_date`` format a stored (UTC) datetime the same way in Python
code (admin columns, case summaries) as the ``date`` filter does in templates.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def local_datetime(value: datetime | None) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


def local_date(value: datetime | None) -> str:
    """The calendar day in TIME_ZONE: 06:50 on the 30th in Shanghai is 22:50 UTC on the 29th."""
    return timezone.localdate(value).isoformat() if value else ""
