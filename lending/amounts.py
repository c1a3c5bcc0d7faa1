"""What a borrower pays today: installments due, late charges, and the early payoff of a loan.

All in Decimal, each part rounded to the fen (half up), so the parts add up to the total shown.

Installment due (its due date is today or past): what is left of it, scheduled principal and
interest less what was paid; the interest is paid first, so a part-payment leaves principal.

Late charge: only where ``LOAN_LATE_CHARGE_DAILY_RATES`` names a daily rate for the loan's
product (none by default): the unpaid principal of the installment x the rate x its days past
due. It is charged on principal only, never on interest or an earlier charge (no compounding),
and is shown apart from the installment.

Early payoff (提前还款) on day D, the loan settled that day:

- every installment already due: what is left of it (and its late charge, if any);
- the installment whose period contains D (from the previous due date, or the disbursement
  for the first, to its due date): its principal plus the interest accrued to D, that is its
  scheduled interest x days elapsed / days in the period, no more than the scheduled interest;
- every later installment: its principal only (no interest has accrued on it);
- plus the early-repayment fee where ``LOAN_EARLY_REPAYMENT_FEE_RATES`` names a rate for the
  product (none by default): the rate x the principal paid before it was due.

So the total is the remaining principal plus the interest accrued to D (plus charges).
"""

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from lending.amortisation import FEN

ZERO = Decimal("0.00")


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, ROUND_HALF_UP)


@dataclass(frozen=True)
class Part:
    """What one installment takes of a payment."""

    installment_id: int
    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    late_charge: Decimal = ZERO
    fee: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest + self.late_charge + self.fee


@dataclass(frozen=True)
class Payment:
    """Parts of one payment, with their sums for the page."""

    day: date
    parts: list[Part] = field(default_factory=list)

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(part, name) for part in self.parts), ZERO)

    @property
    def principal(self) -> Decimal:
        return self._sum("principal")

    @property
    def interest(self) -> Decimal:
        return self._sum("interest")

    @property
    def late_charges(self) -> Decimal:
        return self._sum("late_charge")

    @property
    def fee(self) -> Decimal:
        return self._sum("fee")

    @property
    def total(self) -> Decimal:
        return self._sum("amount")

    def amounts(self) -> dict[int, Decimal]:
        return {part.installment_id: part.amount for part in self.parts}


def late_charge(installment, product: str, day: date) -> Decimal:
    """The installment's late charge on ``day`` (zero unless the product defines a daily rate)."""
    rate = settings.LOAN_LATE_CHARGE_DAILY_RATES.get(product)
    days = (day - installment.due_date).days
    if not rate or days <= 0:
        return ZERO
    return _fen(_split(installment)[0] * Decimal(rate) * days)


def _split(installment) -> tuple[Decimal, Decimal]:
    """(principal, interest) left of an installment: what was paid went to interest first."""
    interest = max(installment.interest_due - installment.paid_amount, ZERO)
    return installment.amount_due - installment.paid_amount - interest, interest


def _due_part(installment, product: str, day: date) -> Part:
    principal, interest = _split(installment)
    return Part(
        installment.pk,
        installment.number,
        installment.due_date,
        principal,
        interest,
        late_charge(installment, product, day),
    )


def installments_payment(installments, product: str, day: date) -> Payment:
    """Paying these installments (all due by ``day``) in full, late charges included."""
    return Payment(day, [_due_part(i, product, day) for i in installments])


def accrued_interest(installment, period_start: date, day: date) -> Decimal:
    """The installment's scheduled interest accrued by ``day``, pro rata of days, in fen."""
    period = (installment.due_date - period_start).days
    elapsed = min(max((day - period_start).days, 0), period)
    if period <= 0:
        return installment.interest_due
    return _fen(installment.interest_due * elapsed / period)


def payoff_payment(loan, installments, day: date) -> Payment:
    """Settling the loan on ``day``; ``installments``: the whole schedule in order of number."""
    parts, current_seen, principal_early = [], False, ZERO
    period_start = timezone.localdate(loan.disbursed_at)
    for installment in installments:
        start, period_start = period_start, installment.due_date
        if installment.status == installment.Status.PAID:
            continue
        if installment.due_date <= day or installment.status == installment.Status.OVERDUE:
            parts.append(_due_part(installment, loan.product, day))
            continue
        accrued = ZERO if current_seen else accrued_interest(installment, start, day)
        current_seen = True
        paid = installment.paid_amount  # to the accrued interest first, then principal
        interest = max(accrued - paid, ZERO)
        principal = installment.principal_due - max(paid - accrued, ZERO)
        principal_early += principal
        parts.append(Part(installment.pk, installment.number, installment.due_date, principal, interest))
    rate = settings.LOAN_EARLY_REPAYMENT_FEE_RATES.get(loan.product)
    fee = _fen(principal_early * Decimal(rate)) if rate else ZERO
    if fee:
        first_early = next(i for i, part in enumerate(parts) if part.due_date > day)
        parts[first_early] = replace(parts[first_early], fee=fee)
    return Payment(day, parts)
