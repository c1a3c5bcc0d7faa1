"""What the simulator answers, decided by the ID number and the phone number alone.

The three digits before the ID number's check digit (its sequence code) choose the outcome;
every other valid number matches. The table is the README's.
"""

from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"

MISMATCH, NOT_FOUND, DOWN, SLOW, FACE_FAILS = "990", "991", "992", "993", "994"
PHONE_MISMATCH, PHONE_NOT_FOUND = "0990", "0991"  # the phone number's last four digits


def check_digit(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def valid_id(number: str) -> bool:
    return (
        len(number) == 18
        and number[:17].isdigit()
        and number[17] in "0123456789X"
        and check_digit(number[:17]) == number[17]
    )


@dataclass(frozen=True)
class Behaviour:
    fault: str  # "", "down" (HTTP 503) or "slow" (answers after --slow-seconds)
    id_result: str  # IdCardVerification Result
    similarity: float  # the liveness page's face comparison score


def behaviour(id_number: str) -> Behaviour:
    number = (id_number or "").upper()
    if not valid_id(number):
        return Behaviour("", "-2", 0.0)
    sequence = number[14:17]
    return {
        MISMATCH: Behaviour("", "-1", 31.7),
        NOT_FOUND: Behaviour("", "-5", 0.0),
        DOWN: Behaviour("down", "-4", 0.0),
        SLOW: Behaviour("slow", "0", 92.4),
        FACE_FAILS: Behaviour("", "0", 38.5),
    }.get(sequence, Behaviour("", "0", 92.4))


def phone_result(id_number: str, phone: str) -> str:
    """PhoneVerification Result: the ID number's outcome first, then the phone's last digits."""
    id_result = behaviour(id_number).id_result
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) != 11 or not digits.startswith("1"):
        return "-6"
    if id_result == "-2":
        return "-7"
    if id_result == "-1":
        return "-4"
    if id_result == "-5" or digits.endswith(PHONE_NOT_FOUND):
        return "-9"
    if digits.endswith(PHONE_MISMATCH):
        return "-4"
    return "0"
