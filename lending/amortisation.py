"""Equal-installment (等额本息) schedules in Decimal, rounded to the fen.

Every month pays the same amount except the last, which absorbs the rounding, so the
principal parts add up to the principal exactly.
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


@dataclass(frozen=True)
class ScheduledInstallment:
    number: int
    due_date: date
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer days."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def monthly_payment(principal: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    rate = annual_rate / 12
    if rate == 0:
        return (principal / months).quantize(FEN, ROUND_HALF_UP)
    factor = (1 + rate) ** months
    return (principal * rate * factor / (factor - 1)).quantize(FEN, ROUND_HALF_UP)


def schedule(
    principal: Decimal, annual_rate: Decimal, months: int, first_due: date
) -> list[ScheduledInstallment]:
    rate = annual_rate / 12
    payment = monthly_payment(principal, annual_rate, months)
    remaining = principal
    rows = []
    for number in range(1, months + 1):
        interest = (remaining * rate).quantize(FEN, ROUND_HALF_UP)
        principal_part = remaining if number == months else payment - interest
        remaining -= principal_part
        rows.append(ScheduledInstallment(number, add_months(first_due, number - 1), principal_part, interest))
    return rows
