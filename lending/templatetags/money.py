"""``{{ amount|money }}``: an amount in yuan with the fen and the locale's thousands separators."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(value) -> str:
    """¥80,000.00; an empty or unreadable value shows as nothing rather than ¥None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{number_format(abs(amount), 2, force_grouping=True)}"


@register.filter
def grouped(value) -> str:
    """80,000.00: the amount as ``money`` writes it, without the ¥ (for texts that carry their own)."""
    return money(value).replace("¥", "", 1)
