import logging
import sys

import pytest

from lending.pii import (
    RedactPIILogFilter,
    find_pii,
    find_pii_in,
    mask_card,
    mask_free_text,
    mask_id_number,
    mask_name,
    mask_phone,
    redact,
)

# What the officer typed in the issue: a phone, a card and an ID number, each with other separators.
ISSUE = "Called the borrower on 137 1111 0001; card 6217.0000.0000.0001.234, ID 110105 19870307 5316"


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
    "typed",
    [
        "13711110001",
        "137 1111 0001",
        "137-1111-0001",
        "137.1111.0001",
        "137_1111/0001",
        "137 - 1111 - 0001",
        "137-1111 0001",
        "1371111\u30000001",  # full-width space
        "１３７１１１１０００１",  # full-width digits
        "+8613711110001",
        "+86 137 1111 0001",
        "86-137-1111-0001",
        "0086 137.1111.0001",
    ],
)
def test_a_mobile_number_is_masked_whatever_its_separators(typed):
    assert mask_free_text(f"call {typed} today") == ("call 137****0001 today", ["phone"])


@pytest.mark.parametrize(
    "typed",
    [
        "6217000000000001234",
        "6217 0000 0000 0001 234",
        "6217.0000.0000.0001.234",
        "6217-0000-0000-0001-234",
        "6217_0000_0000_0001_234",
        "6217/0000/0000/0001/234",
        "6217 0000.0000-0001_234",
        "6217  0000 - 0000 . 0001 234",
        "6217\u30000000\u30000000\u30000001\u3000234",
        "６２１７　００００　００００　０００１　２３４",
    ],
)
def test_a_card_number_is_masked_to_its_last_four_digits(typed):
    assert mask_free_text(f"card {typed}.") == ("card **** 1234.", ["card"])


@pytest.mark.parametrize("typed", ["6214830000051234", "6214 8300 0005 1234", "6214-8300-0005-1234"])
def test_a_16_digit_card_number_is_masked(typed):
    assert mask_free_text(typed) == ("**** 1234", ["card"])


@pytest.mark.parametrize(
    "typed, masked",
    [
        ("110105198703075316", "110***********5316"),
        ("110105 19870307 5316", "110***********5316"),
        ("110105.19870307.5316", "110***********5316"),
        ("110105-1987-0307-5316", "110***********5316"),
        ("1101 0519 8703 0753 16", "110***********5316"),
        ("11010519491231002X", "110***********002X"),
        ("110105 19491231 002x", "110***********002X"),
        ("110105-19491231-002 X", "110***********002X"),
    ],
)
def test_a_resident_id_number_is_masked_whatever_its_separators(typed, masked):
    assert mask_free_text(f"ID {typed}, checked") == (f"ID {masked}, checked", ["id_number"])


def test_the_officers_sentence_from_the_report_is_masked():
    masked, kinds = mask_free_text(ISSUE)

    assert masked == "Called the borrower on 137****0001; card **** 1234, ID 110***********5316"
    assert kinds == ["card", "id_number", "phone"]
    assert redact(ISSUE) == masked and find_pii(ISSUE) == kinds


def test_a_phone_number_and_a_card_number_typed_as_one_run_are_both_masked():
    assert mask_free_text("137 1111 0001 6217 0000 0000 0001 234") == (
        "137****0001 **** 1234",
        ["card", "phone"],
    )


@pytest.mark.parametrize(
    "text",
    [
        "card 6217 0000 0000 0001 235",  # Luhn-invalid
        "6222021234567890127",
        "6222-0212-3456-7890",  # 16 digits, Luhn-invalid
        "ID 110105198703075317",  # wrong check digit
        "ID 11010519871307531X",  # right check digit, no 13th month
        "ID 110105198702305319",  # right check digit, no 30 February
        "call 123 4567 8901",  # not a mobile number (12...)
        "62170000000000012345",  # 20 digits: longer than any card number
        "due 2026-11-30, seen 2026-11-30 13:05, 2026/11/30 and 30.11.2026",
        "paid ¥80,000.00 of 1,234.56 and 80000.00; rate 0.0720",
        "order 2026113012, loan 42, installment 3 of 24, ref 20261130-000042",
        "sha256 3f9a0c1e5b7d2468ace0135792468ace0135792468ace0135792468ace01357",
        "request 7f3c2a1e-1b2c-4d5e-8f90-123456789abc",
        "from 180.101.149.11 and 139.224.12.123:443",  # IPv4 addresses, not mobile numbers
        "token a13800138000b and tel13711110001",  # inside a word: not a number of its own
        "138****8000 and **** 1234 and 110***********5316",  # masks
    ],
)
def test_ordinary_numbers_and_masks_are_left_alone(text):
    assert mask_free_text(text) == (text, [])
    assert find_pii(text) == []


@pytest.mark.parametrize(
    "text",
    [
        ISSUE,
        "137 1111 0001 6217 0000 0000 0001 234",
        "+86 137-1111-0001 / 0086 138.0013.8000",
        # the digits the phone mask shows join the next ones into a Luhn-valid card number
        "13711110001 2345 6789 015",
    ],
)
def test_masked_text_is_not_found_again(text):
    masked, kinds = mask_free_text(text)

    assert kinds and find_pii(masked) == []
    assert mask_free_text(masked) == (masked, [])
    assert len(masked) <= len(text)


def test_a_megabyte_of_digits_is_scanned():
    assert mask_free_text("1" * 1_000_000) == ("1" * 1_000_000, [])
    cards = "6217.0000.0000.0001.234 " * 42_000
    masked, kinds = mask_free_text(cards)
    assert kinds == ["card"] and masked == "**** 1234 " * 42_000
    assert find_pii(" ".join(["1"] * 50_000)) == []  # every digit a group: the most spans to try


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("ID 11010519491231002X on file", ["id_number"]),
        ("card 6222021234567890128", ["card"]),
        ("card 6222 0212 3456 7890 128", ["card"]),
        ("call +86 13800138000", ["phone"]),
        ("call 13800138000", ["phone"]),
        ("amount 12345.67, order 2026112212", []),
        ("token a13800138000b", []),
        ("138****8000 and **** 0128", []),
    ],
)
def test_find_pii(text, kinds):
    assert find_pii(text) == kinds


def test_find_pii_in_searches_every_leaf_but_not_across_leaves():
    assert find_pii_in({"note": ["seen", {"card": "6217 0000 0000 0001 234"}], 13711110001: 1}) == [
        "card",
        "phone",
    ]
    assert find_pii_in({"a": "137 1111", "b": "0001"}) == []
    assert find_pii_in(["6217 0000 0000", "0001 234"]) == []


def test_the_log_filter_redacts_messages_and_tracebacks():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "bind %s for %s", ("6222-0212-3456-7890-128", "+8613800138000"), None
    )
    try:
        raise ValueError("bad id 110105 19491231 002X")
    except ValueError:
        record.exc_info = sys.exc_info()

    assert RedactPIILogFilter().filter(record)

    assert record.getMessage() == "bind **** 0128 for 138****8000"
    assert "19491231" not in record.exc_text and "110***********002X" in record.exc_text


def test_redact_leaves_ordinary_text_alone():
    assert redact("request 42 took 13 ms") == "request 42 took 13 ms"


def test_a_float_in_a_log_line_is_not_a_number_someone_typed():
    line = "Task audit.tasks.notify_officers succeeded in 0.006530259001010563s: 0 {'runtime': 0.006530259001010563}"
    assert find_pii(line) == []
    assert find_pii("138.00138000") == ["phone"]  # a dotted mobile number is still one
