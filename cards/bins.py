"""Bank card numbers: normalising, Luhn, and the BIN table (cards/data/bin_table.csv).

The table is read once per process; its source and format are described in the file.
"""

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from stdnum import luhn

BIN_TABLE = Path(__file__).parent / "data" / "bin_table.csv"
DEBIT, CREDIT = "debit", "credit"


@dataclass(frozen=True)
class BankCardType:
    bin: str
    bank_code: str
    bank_zh: str
    bank_en: str
    card_type: str
    length: int

    @property
    def bank_name(self) -> str:
        return self.bank_zh if translation.get_language() == "zh-hans" else self.bank_en


@cache
def _table() -> dict[str, BankCardType]:
    with BIN_TABLE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {
            row["bin"]: BankCardType(
                row["bin"],
                row["bank_code"],
                row["bank_zh"],
                row["bank_en"],
                row["card_type"],
                int(row["length"]),
            )
            for row in rows
        }


def bank_of(card_number: str) -> BankCardType | None:
    return bank_of_bin(card_number[:6])


def bank_of_bin(bin6: str) -> BankCardType | None:
    return _table().get(bin6)


def banks() -> list[tuple[str, str]]:
    """(bank code, name) of every bank in the table, for filters and forms."""
    seen = {}
    for entry in _table().values():
        seen.setdefault(entry.bank_code, entry.bank_name)
    return sorted(seen.items())


def clean_card_number(value: str) -> tuple[str, BankCardType]:
    """The digits of a typed card number and its BIN entry, or a ValidationError saying what is wrong.

    Error messages never repeat the number.
    """
    digits = re.sub(r"[\s-]", "", str(value or ""))
    if not digits.isascii() or not digits.isdigit():
        raise ValidationError(_("A card number has digits only."), code="digits")
    if not 13 <= len(digits) <= 19:
        raise ValidationError(_("A card number has 13 to 19 digits."), code="length")
    if not luhn.is_valid(digits):
        raise ValidationError(_("This card number is not valid: check the digits."), code="luhn")
    entry = bank_of(digits)
    if entry is None:
        raise ValidationError(
            _("We do not recognise this card's bank. Use a card of a mainland China bank we support."),
            code="unknown_bin",
        )
    if len(digits) != entry.length:
        raise ValidationError(
            _("A %(bank)s card of this kind has %(length)d digits.")
            % {"bank": entry.bank_name, "length": entry.length},
            code="length_for_bank",
        )
    return digits, entry
