"""Times as the back office shows them: in TIME_ZONE (Asia/Shanghai) with the UTC offset, so an
officer comparing with a UTC log or export, or reading from abroad, is never misled, and one
format everywhere, so the review queue, the case page and the officers' emails agree.

The admin's own rendering of datetime fields goes through ``local_datetime`` too
(``zoned_admin_display``, installed by the back office's AppConfig). Borrowers' pages keep the
locale's DATETIME_FORMAT.
"""

from datetime import datetime

from django.contrib.admin import helpers
from django.contrib.admin import utils as admin_utils
from django.contrib.admin.templatetags import admin_list
from django.db import models
from django.utils import timezone

from lending.choices import labels_of
from lending.printed_dates import printed

ZONED = r"Y-m-d H:i \U\T\CO"  # 2026-11-30 13:00 UTC+0800


def local_datetime(value: datetime | None) -> str:
    return printed(timezone.localtime(value), ZONED) if value else ""


def local_date(value: datetime | None) -> str:
    """The calendar day in TIME_ZONE: 06:50 on the 30th in Shanghai is 22:50 UTC on the 29th."""
    return timezone.localdate(value).isoformat() if value else ""


_admin_display_for_field = admin_utils.display_for_field


def _display_for_field(value, field, empty_value_display, avoid_link=False):
    if field.choices:  # the admin builds the choices' dict for every cell (115 actions on each row)
        try:
            return labels_of(field).get(value, empty_value_display)
        except TypeError:  # an unhashable value: the admin's own way
            return _admin_display_for_field(value, field, empty_value_display, avoid_link)
    if isinstance(field, models.DateTimeField) and value is not None:
        return local_datetime(value)
    return _admin_display_for_field(value, field, empty_value_display, avoid_link)


def zoned_admin_display() -> None:
    """Datetime fields in the admin's lists and record pages shown by ``local_datetime`` (the
    admin formats them with DATETIME_FORMAT, which the borrowers' pages share, so the format
    cannot change there). The admin calls display_for_field from these two modules only."""
    admin_list.display_for_field = helpers.display_for_field = _display_for_field
