"""Sandbox test card numbers (Luhn-valid, in the BIN table), by what the sandbox bank does with them.

The bank decides by the last 4 digits (0002, 0069, 9995, 0119 fail; any other succeeds); the good
cards end differently so that a borrower with several of them can tell them apart."""

GOOD_DEBIT = "6222020000000061234"  # ICBC debit, 19 digits
OTHER_GOOD_DEBIT = "6217000000000045678"  # CCB debit
THIRD_GOOD_DEBIT = "6228480000000093344"  # ABC debit
CMB_DEBIT_16 = "6214830000000512"  # CMB debit, 16 digits
GOOD_CREDIT = "6259080000017720"  # BOC credit
FOUR_ELEMENTS_FAIL = "6222020000000080002"
CARD_CLOSED = "6222020000000080069"
INSUFFICIENT_FUNDS = "6222020000000089995"
HARD_FAIL = "6222020000000080119"

ALL = [
    GOOD_DEBIT,
    OTHER_GOOD_DEBIT,
    THIRD_GOOD_DEBIT,
    CMB_DEBIT_16,
    GOOD_CREDIT,
    FOUR_ELEMENTS_FAIL,
    CARD_CLOSED,
    INSUFFICIENT_FUNDS,
    HARD_FAIL,
]
