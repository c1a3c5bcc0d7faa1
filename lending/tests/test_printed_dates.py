"""Dates and times printed from the kept texts read exactly as Django prints them."""

import datetime
import zoneinfo

import pytest
from django.test import override_settings
from django.utils import formats, translation

from lending import printed_dates
from lending.printed_dates import printed

ZONED = r"Y-m-d H:i \U\T\CO"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LATE_EVENING_UTC = datetime.datetime(2026, 11, 30, 19, 5, tzinfo=datetime.UTC)  # 03:05 on Dec 1 in Shanghai
VALUES = [
    LATE_EVENING_UTC,
    LATE_EVENING_UTC.astimezone(SHANGHAI),  # the same instant: equal, yet printed differently
    datetime.date(2026, 12, 1),
    datetime.datetime(2026, 12, 1, 15, 30),
    datetime.time(15, 30),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_value_prints_as_djangos_localize_and_date_format_print_it_also_the_second_time(language):
    with translation.override(language):
        for value in VALUES:
            for _ in range(2):
                assert printed(value) == formats.localize(value)
                if isinstance(value, datetime.date):
                    assert printed(value, "DATE_FORMAT") == formats.date_format(value, "DATE_FORMAT")
                if isinstance(value, datetime.datetime):
                    assert printed(value, ZONED) == formats.date_format(value, ZONED)


def test_the_same_instant_in_two_zones_and_two_languages_are_kept_apart():
    shanghai = LATE_EVENING_UTC.astimezone(SHANGHAI)
    with translation.override("en"):
        texts = {printed(LATE_EVENING_UTC), printed(shanghai)}
    with translation.override("zh-hans"):
        texts |= {printed(LATE_EVENING_UTC), printed(shanghai)}
    assert texts == {
        "Nov. 30, 2026, 7:05 p.m.",
        "Dec. 1, 2026, 3:05 a.m.",
        "2026年11月30日 19:05",
        "2026年12月1日 03:05",
    }


def test_a_change_of_settings_drops_the_kept_texts():
    printed(datetime.date(2026, 12, 1))
    assert printed_dates._texts
    with override_settings(USE_THOUSAND_SEPARATOR=False):
        assert not printed_dates._texts
