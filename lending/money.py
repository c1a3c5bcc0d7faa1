"""``{{ amount|money }}``: an amount in yuan with the fen and the locale's thousands separators."""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.formats import get_format, number_format

FEN = Decimal("0.01")
# Whether every language of the site writes amounts as Python does (groups of three, "," and
# "."); formats do not change while the process runs (a test that overrides settings clears it).
_python_style: list[bool] = []


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _python_style.clear()


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
    """``number_format(amount, 2, force_grouping=True)``, through Python's own formatting where
    every language groups by three with "," and "." (both do here): a page shows dozens of
    amounts, and this costs a fraction. The fen is cut, not rounded, as number_format does."""
    if not _python_style:
        names = ("DECIMAL_SEPARATOR", "THOUSAND_SEPARATOR", "NUMBER_GROUPING")
        languages = [code for code, _name in settings.LANGUAGES]
        _python_style.append(all([get_format(n, lang) for n in names] == [".", ",", 3] for lang in languages))
    if _python_style[0] and amount.is_finite():
        try:
            return f"{amount.quantize(FEN, rounding=ROUND_DOWN):,.2f}"
        except InvalidOperation:  # more digits than the decimal context holds
            pass
    return number_format(amount, 2, force_grouping=True)


def grouped(value) -> str:
    """80,000.00: the amount as ``money`` writes it, without the ¥ (for texts that carry their own)."""
    return money(value).replace("¥", "", 1)
