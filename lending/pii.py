"""Masking and detection of personal data: phone, ID and card numbers.

Masks are what borrowers' data looks like wherever it leaves its own column: audit
events, logs, exports, officers' screens. Detection is the safety net behind them: the
audit service and the outbox refuse data holding an unmasked number, the log filter
redacts any that slips into a log line, and free text people type is masked before it is
stored (``mask_free_text``).

One scanner finds the numbers however they were typed: runs of digit groups joined by
short separator sequences (spaces, dots, dashes, underscores, slashes, their full-width
forms), not starting or ending inside a word or a longer number, and not an IPv4 address.
Each run is walked group by group: at each group the spans starting there (at most 19
digits) are tried for a resident ID number (checksum and birth date), then a mainland
mobile number (with an optional 86/0086 prefix), then the longest Luhn-valid card number
of 13 to 19 digits; a match is masked and the walk goes on after it, else it moves one
group on. The work per group is bounded, so a megabyte of digits is scanned in linear time.
"""

import logging
import re
import unicodedata
from array import array
from itertools import accumulate

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

# Spaces (also no-break, thin and full-width), dots (also middle and full-width), dashes
# (hyphens, en and em dashes, minus signs, full-width), underscores and slashes.
_SEP = "[ \t\u00a0\u2000-\u200a\u202f\u3000.\u00b7\u30fb\uff0e_/\uff0f\\-\u2010-\u2015\u2212\ufe63\uff0d]"
_SHORTEST, _LONGEST = 11, 19  # a mobile number; a card number
_RUN_RE = re.compile(
    # Not inside a word or a longer number: no letter or digit before it, nor a digit and separators.
    rf"(?<![\dA-Za-z])(?<!\d{_SEP})(?<!\d{_SEP}{_SEP})(?<!\d{_SEP}{_SEP}{_SEP})"
    rf"(?=\+?(?:\d{_SEP}{{0,3}}){{{_SHORTEST - 1}}}\d)"  # at least the digits of a mobile number
    rf"(?>\+?\d+(?:{_SEP}{{1,3}}\d+)*(?:{_SEP}{{0,3}}[Xx](?![\dA-Za-z]))?)"
    r"(?![\dA-Za-z])"
)
_GROUP_RE = re.compile(r"\d+|[Xx]")
_IPV4_RE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")  # 180.101.149.11 is an address, not a phone number
# 0.006530259001010563 is a float as Python writes it (a task's run time in a log line): one
# digit, a dot and a long tail no one types a card, ID or phone number as.
_FRACTION_RE = re.compile(r"\d\.\d{13,}")
# Digit values for Luhn sums, plain and doubled (twice the digit, minus 9 past 9); X counts 0.
_PLAIN = bytes.maketrans(b"0123456789X", bytes((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0)))
_DOUBLED = bytes.maketrans(b"0123456789X", bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9, 0)))


def mask_phone(phone) -> str:
    """``+8613800138000`` -> ``138****8000`` (mainland convention: first 3 and last 4)."""
    if getattr(phone, "national_number", None):  # a parsed PhoneNumber: str() would validate it again
        phone = f"+{phone.country_code}{phone.national_number}"
    digits = re.sub(r"\D", "", str(phone or ""))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_id_number(id_number: str) -> str:
    """Resident ID number with the first 3 and last 4 characters shown."""
    value = str(id_number or "")
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_name(name: str) -> str:
    """Keep the surname (first character) only: ``张三丰`` -> ``张**``."""
    value = str(name or "").strip()
    return value[:1] + "*" * max(len(value) - 1, 0)


def mask_card(last4: str) -> str:
    return f"**** {last4}"


_MASKS = {
    "card": lambda number: mask_card(number[-4:]),
    "id_number": mask_id_number,
    "phone": lambda number: mask_phone(number[-11:]),  # without 86 or 0086
}


def _is_id_number(value: str) -> bool:
    if not ("01" <= value[10:12] <= "12" and "01" <= value[12:14] <= "31"):  # month, day: cheap first
        return False
    try:
        return ric.calc_check_digit(value) == value[-1].upper() and bool(ric.get_birth_date(value))
    except (ValueError, ValidationError):
        return False


def _ascii_digits(group: str) -> str:
    """Full-width and other Unicode digits as ASCII ones (IMEs type full-width digits)."""
    if group.isascii():
        return group.upper()
    return "".join(str(unicodedata.decimal(char)) for char in group)


def _luhn_sums(digits: str) -> tuple[array, array]:
    """Prefix sums of ``digits`` with those at even (first) or odd (second) places doubled the
    Luhn way: the Luhn sum of any span is then one subtraction."""
    plain, doubled = digits.encode().translate(_PLAIN), digits.encode().translate(_DOUBLED)
    even, odd = bytearray(plain), bytearray(plain)
    even[0::2], odd[1::2] = doubled[0::2], doubled[1::2]
    return array("q", [0, *accumulate(even)]), array("q", [0, *accumulate(odd)])


class _Run:
    """The digits of one run (each group's ASCII digits, one after another) and where its groups end."""

    def __init__(self, digits: str, ends: dict[int, int]):
        self.digits, self.ends, self._luhn = digits, ends, None

    def number_at(self, start: int) -> tuple[int, str] | None:
        """The number whose first digit is ``digits[start]`` (a group's first), as (its last group,
        kind), or None: an ID number, else a mobile number, else the longest card number."""
        digits, ends = self.digits, self.ends
        last = ends.get(start + 18)
        if last is not None and _is_id_number(digits[start : start + 18]):
            return last, "id_number"
        if digits[start] in "108":  # 1..., 86 1..., 0086 1...
            for prefix in ("", "86", "0086"):
                national = start + len(prefix)
                last = ends.get(national + 11)
                if (
                    last is not None
                    and digits.startswith(prefix, start)
                    and digits[national] == "1"
                    and digits[national + 1] in "3456789"
                    and digits[national + 10] != "X"
                ):
                    return last, "phone"
        for end in range(start + _LONGEST, start + 12, -1):
            last = ends.get(end)
            if last is not None and digits[end - 1] != "X":
                if self._luhn is None:
                    self._luhn = _luhn_sums(digits)
                sums = self._luhn[end % 2]  # the last digit is never doubled
                if (sums[end] - sums[start]) % 10 == 0:
                    return last, "card"
        return None


def _numbers(text: str):
    """``(start, end, kind, digits)`` of each personal number in ``text``, left to right."""
    for found in _RUN_RE.finditer(text):
        if _IPV4_RE.fullmatch(found.group()) or _FRACTION_RE.fullmatch(found.group()):
            continue  # risk alerts name IP addresses and logs show them; fractions are amounts and times
        # Flat lists of ints and strings: a megabyte of digits makes no tuples for the GC to walk.
        begins, finishes, parts, starts, ends, length = [], [], [], [], {}, 0
        for group in _GROUP_RE.finditer(text, found.start(), found.end()):
            begins.append(group.start())
            finishes.append(group.end())
            parts.append(_ascii_digits(group.group()))
            starts.append(length)
            length += len(parts[-1])
            ends[length] = len(parts) - 1
        run = _Run("".join(parts), ends)
        first = 0
        while first < len(parts):
            number = run.number_at(starts[first])
            if number is None:
                first += 1
                continue
            last, kind = number
            begin = found.start() if first == 0 else begins[first]  # with a leading "+"
            yield begin, finishes[last], kind, run.digits[starts[first] : starts[last] + len(parts[last])]
            first = last + 1


def _masked(text: str, *, stars: bool) -> tuple[str, set]:
    parts, kinds, done = [], set(), 0
    for start, end, kind, value in _numbers(text):
        parts += [text[done:start], "*" * (end - start) if stars else _MASKS[kind](value)]
        kinds.add(kind)
        done = end
    if not kinds:
        return text, kinds
    parts.append(text[done:])
    return "".join(parts), kinds


def mask_free_text(text: str) -> tuple[str, list[str]]:
    """``text`` with each phone, ID and card number masked however it was typed, and the
    kinds masked (``card``, ``id_number``, ``phone``). Never longer than ``text``, and
    nothing in it is found again."""
    masked, kinds = _masked(text, stars=False)
    if kinds:
        # The digits a mask shows can join the digits after it into a new number: star those.
        masked, more = _masked(masked, stars=True)
        kinds |= more
    return masked, sorted(kinds)


def redact(text: str) -> str:
    return mask_free_text(text)[0]


def find_pii(text: str) -> list[str]:
    """Kinds of unmasked personal numbers found in ``text``: ``card``, ``id_number``, ``phone``."""
    return sorted({kind for _start, _end, kind, _value in _numbers(text)})


def find_pii_in(value) -> list[str]:
    """``find_pii`` over every string, key and number nested in JSON-like ``value``.

    The leaves are searched as one text joined by a separator no number crosses, which is
    several times faster than a search per leaf (audit events are checked on every write)."""
    return find_pii("\x1f".join(_leaves(value)))


def _leaves(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(key)
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str | int):
        yield str(value)


class RedactPIILogFilter(logging.Filter):
    """Rewrites every log record so no full phone, ID or card number reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
