import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from cards.bins import _table, bank_of, clean_card_number
from cards.tests import sandbox_cards

REQUIRED_BANKS = {"ICBC", "CCB", "ABC", "BOC", "BOCOM", "CMB", "PSBC", "CITIC"}


def test_every_required_bank_has_debit_and_credit_prefixes():
    kinds = {(entry.bank_code, entry.card_type) for entry in _table().values()}
    for bank in REQUIRED_BANKS:
        assert (bank, "debit") in kinds and (bank, "credit") in kinds, bank


def test_bin_table_rows_are_well_formed():
    for bin6, entry in _table().items():
        assert len(bin6) == 6 and bin6.isdigit()
        assert entry.card_type in ("debit", "credit") and entry.length in (16, 17, 18, 19)


def test_every_sandbox_test_card_is_valid():
    for number in sandbox_cards.ALL:
        digits, entry = clean_card_number(number)
        assert digits == number and entry is not None


def test_spaces_and_dashes_are_allowed():
    digits, entry = clean_card_number("6222 0200 0000 0061 234")
    assert digits == sandbox_cards.GOOD_DEBIT
    assert (entry.bank_code, entry.card_type) == ("ICBC", "debit")


def test_bank_names_in_both_languages():
    entry = bank_of(sandbox_cards.GOOD_DEBIT)
    with translation.override("zh-hans"):
        assert entry.bank_name == "中国工商银行"
    with translation.override("en"):
        assert entry.bank_name == "Industrial and Commercial Bank of China"


@pytest.mark.parametrize(
    "value, message",
    [
        ("6222 02ab 0000", "digits only"),
        ("622202", "13 to 19"),
        ("1" * 30, "13 to 19"),
        ("6222020000000061235", "not valid"),  # Luhn
        ("4111111111111111", "do not recognise"),  # unknown BIN
        ("6222020000000007", "has 19 digits"),  # Luhn-valid, but ICBC debit cards have 19
        ("６２２２０２００００００００６１２３４", "digits only"),  # full-width digits
    ],
)
def test_bad_numbers_say_what_is_wrong_without_repeating_the_number(value, message):
    with pytest.raises(ValidationError, match=message) as refused:
        clean_card_number(value)
    assert value not in str(refused.value)


def test_the_good_sandbox_cards_end_differently():
    good = [
        sandbox_cards.GOOD_DEBIT,
        sandbox_cards.OTHER_GOOD_DEBIT,
        sandbox_cards.THIRD_GOOD_DEBIT,
        sandbox_cards.CMB_DEBIT_16,
        sandbox_cards.GOOD_CREDIT,
    ]
    assert len({number[-4:] for number in good}) == len(good)
