"""``{{ amount|money }}``: an amount in yuan with the fen and the locale's thousands separators."""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.formats import get_format, number_format
from django.utils.translation import get_language

register = template.Library()

FEN = Decimal("0.01")
# Per language: whether it writes amounts as Python does (groups of three, "," and "."); its
# formats do not change while the process runs (tests that override settings clear it).
_python_style: dict[str, bool] = {}


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _python_style.clear()


@register.filter
def money(value) -> str:
    """¥80,000.00; an empty or unreadable value shows as nothing rather than ¥None."""
    if value is None or value == "":
        return ""
    try:
        amount = value if type(value) is Decimal else Decimal(str(value))
    except InvalidOperation:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{_grouped(abs(amount))}"


def _grouped(amount: Decimal) -> str:
    """``number_format(amount, 2, force_grouping=True)``, through Python's own formatting where the
    locale groups by three with "," and "." (both languages here): a page shows dozens of amounts,
    and this is several times cheaper. The fen is cut, not rounded, as number_format does."""
    lang = get_language()
    python_style = _python_style.get(lang)
    if python_style is None:
        names = ("DECIMAL_SEPARATOR", "THOUSAND_SEPARATOR", "NUMBER_GROUPING")
        python_style = _python_style[lang] = [get_format(name, lang) for name in names] == [".", ",", 3]
    if python_style and amount.is_finite():
        try:
            return f"{amount.quantize(FEN, rounding=ROUND_DOWN):,.2f}"
        except InvalidOperation:  # more digits than the decimal context holds
            pass
    return number_format(amount, 2, force_grouping=True)


@register.filter
def grouped(value) -> str:
    """80,000.00: the amount as ``money`` writes it, without the ¥ (for texts that carry their own)."""
    return money(value).replace("¥", "", 1)
