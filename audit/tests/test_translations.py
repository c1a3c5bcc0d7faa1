"""Chinese messages that put a status into a sentence read right with every status."""

import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from audit.models import ReviewCase, RiskAlert
from lending.admin_tools import _MASKED_KINDS


@pytest.mark.parametrize(
    ("message", "statuses"),
    [
        ("Case #%(id)s is %(status)s.", ReviewCase.Status),
        ("This case is already %(status)s.", ReviewCase.Status),
        ("This alert is already %(status)s.", RiskAlert.Status),
    ],
)
def test_a_status_in_a_chinese_sentence_is_not_doubled(message, statuses):
    with translation.override("zh-hans"):
        for status in statuses:
            text = _(message) % {"id": 1, "status": status.label}
            assert "已已" not in text, text


def test_the_masked_kinds_are_listed_with_the_chinese_separator():
    with translation.override("zh-hans"):
        listed = _(", ").join(str(label) for label in _MASKED_KINDS.values())
    assert "、" in listed and "," not in listed
