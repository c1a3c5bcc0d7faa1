import logging

import pytest

from lending.pii import RedactPIILogFilter, find_pii, mask_card, mask_id_number, mask_name, mask_phone, redact


@pytest.mark.parametrize(
    "phone, masked",
    [("+8613800138000", "138****8000"), ("13912345678", "139****5678"), ("", ""), (None, "")],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_other_masks():
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_name("张三丰") == "张**"
    assert mask_card("0128") == "**** 0128"


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("ID 11010519491231002X on file", ["id_number"]),
        ("card 6222021234567890128", ["card"]),
        ("card 6222 0212 3456 7890 128", ["card"]),
        ("call +86 13800138000", ["phone"]),
        ("call 13800138000", ["phone"]),
        ("amount 12345.67, order 2026112212", []),  # ordinary numbers, Luhn-invalid long ids
        ("token a13800138000b", []),  # digits inside a longer word are not a phone number
        ("138****8000 and **** 0128", []),
    ],
)
def test_find_pii(text, kinds):
    assert find_pii(text) == kinds


def test_the_log_filter_redacts_messages_and_tracebacks():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "bind %s for %s", ("6222021234567890128", "+8613800138000"), None
    )
    try:
        raise ValueError("bad id 11010519491231002X")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()

    assert RedactPIILogFilter().filter(record)

    assert record.getMessage() == "bind [card-number] for 138****8000"
    assert "11010519491231002X" not in record.exc_text and "[id-number]" in record.exc_text


def test_redact_leaves_ordinary_text_alone():
    assert redact("request 42 took 13 ms") == "request 42 took 13 ms"
