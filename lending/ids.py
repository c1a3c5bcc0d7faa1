"""Object ids typed into URLs and forms: ASCII digits, bounded, so they fit the database's bigint.

Django's ``int`` converter and ``str.isdigit`` accept any length (and ``isdigit`` accepts "²"
and other Unicode digits, which ``int`` then refuses): a megabyte of digits or a superscript
reached the database or ``int()`` and answered 500. Every id from outside goes through here.
"""

import re

from django.urls import register_converter

ID_REGEX = "[0-9]{1,18}"  # below 2**63: any value fits a bigint primary key
_ID = re.compile(rf"\A{ID_REGEX}\Z")


def parse_id(value) -> int | None:
    """The id in ``value`` (a string from a URL or a form), or None when it is not one."""
    if isinstance(value, str) and _ID.match(value):
        return int(value)
    return None


class IdConverter:
    """``<id:card_id>`` in URL patterns: like ``<int:...>``, bounded to ``ID_REGEX``."""

    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")
