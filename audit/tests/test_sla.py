from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from audit.sla import add_working_hours

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)  # 2026-11-23 is a Monday


@pytest.mark.parametrize(
    "start, hours, due",
    [
        (at(23, 10), 4, at(23, 14)),  # Monday morning
        (at(23, 16), 4, at(24, 11)),  # runs over the evening
        (at(23, 7), 4, at(23, 13)),  # before the working day starts
        (at(23, 20), 4, at(24, 13)),  # after it ends
        (at(27, 17), 4, at(30, 12)),  # Friday afternoon: Monday
        (at(28, 11), 4, at(30, 13)),  # Saturday
        (at(23, 10, 30), 0.5, at(23, 11)),
    ],
)
def test_working_hours_skip_nights_and_weekends(start, hours, due):
    assert add_working_hours(start, hours) == due
