"""The ``money`` filter: separators and the fen in both languages."""

from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_amounts_show_separators_and_the_fen(language):
    with translation.override(language):
        shown = (
            engines["jinja2"]
            .from_string("{{ a|money }} {{ b|money }} {{ c|money }}")
            .render({"a": Decimal("80000"), "b": "1234567.5", "c": Decimal("-0.05")})
        )
    assert shown == "¥80,000.00 ¥1,234,567.50 -¥0.05"


def test_nothing_to_show_is_empty_not_none():
    assert (
        engines["jinja2"].from_string("[{{ a|money }}][{{ b|money }}]").render({"a": None, "b": "x"})
        == "[][]"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "value",
    [
        "0",
        "-0",
        "0.005",
        "-0.005",
        "999.999",
        "-999.995",
        "1E+3",
        "12345.6789",
        "1" * 40,
        "1E+40",
    ],
)
def test_amounts_read_as_number_format_writes_them(language, value):
    """The filter's own grouping cuts the fen as Django's number_format does, never rounds."""
    from django.utils.formats import number_format

    from lending.money import money

    amount = Decimal(value)
    with translation.override(language):
        expected = number_format(abs(amount), 2, force_grouping=True)
        assert money(amount) == ("-" if amount < 0 else "") + "¥" + expected
