"""Working time for review SLAs: Monday to Friday, REVIEW_WORKDAY hours, in the platform's time zone.

Public holidays and the make-up working days around them are not modelled: a case opened
before a holiday escalates as if it were a working day, which errs on the side of looking.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone


def _next_morning(moment: datetime) -> datetime:
    start_hour, _end_hour = settings.REVIEW_WORKDAY
    return (moment + timedelta(days=1)).replace(hour=start_hour, minute=0, second=0, microsecond=0)


def add_working_hours(start: datetime, hours: float) -> datetime:
    start_hour, end_hour = settings.REVIEW_WORKDAY
    remaining = timedelta(hours=hours)
    current = timezone.localtime(start)
    while True:
        day_start = current.replace(hour=start_hour, minute=0, second=0, microsecond=0)
        day_end = current.replace(hour=end_hour, minute=0, second=0, microsecond=0)
        if current.weekday() >= 5 or current >= day_end:
            current = _next_morning(current)
            continue
        current = max(current, day_start)
        if remaining <= day_end - current:
            return current + remaining
        remaining -= day_end - current
        current = _next_morning(current)
