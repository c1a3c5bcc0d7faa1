"""Disbursing a loan with its repayment schedule."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from audit.actions import Action
from audit.services import record
from lending.amortisation import add_months, schedule
from lending.errors import DomainError
from lending.models import Installment, Loan
from lending.services.collection import collection_start


class LoanRefused(DomainError):
    code = "loan_refused"


@transaction.atomic
def loan_create(
    *,
    actor,
    borrower,
    product: str,
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    first_due: date | None = None,
) -> Loan:
    """Disburse a loan with its equal-installment schedule.

    Needs a verified identity, a bound phone the carrier confirms in the borrower's name
    (LOAN_NEEDS_CONFIRMED_PHONE) and an active repayment card with an active mandate
    (DESIGN.md, seed 003): a loan is never left without a way to repay it.
    """
    from accounts.selectors import identity_of
    from cards.selectors import repayment_card

    if identity_of(borrower) is None:
        raise LoanRefused(_("The borrower has not verified their identity."), code="no_identity")
    if not borrower.phone:
        raise LoanRefused(_("The borrower has no bound phone."), code="no_phone")
    if settings.LOAN_NEEDS_CONFIRMED_PHONE:
        _ensure_phone_confirmed(borrower)
    card = repayment_card(borrower)
    if card is None or card.debit_mandate is None:
        raise LoanRefused(_("The borrower has no active repayment card."), code="no_repayment_card")
    if principal <= 0 or term_months < 1 or annual_rate < 0:
        raise LoanRefused(_("Principal, rate and term must be positive."), code="invalid_terms")
    now = timezone.now()
    loan = Loan(
        borrower=borrower,
        product=product,
        principal=principal,
        annual_rate=annual_rate,
        term_months=term_months,
        disbursed_at=now,
    )
    loan._change_reason = "disbursed"
    loan.save()
    first_due = first_due or add_months(timezone.localdate(now), 1)
    bulk_create_with_history(
        scheduled_installments(loan, first_due), Installment, default_change_reason="scheduled"
    )
    record(
        action=Action.LOAN_CREATED,
        actor=actor,
        subject=loan,
        data={
            "product": product,
            "principal": str(principal),
            "term_months": term_months,
            "borrower": borrower.pk,
        },
    )
    return loan


def _ensure_phone_confirmed(borrower) -> None:
    """The carrier's latest answer for the account phone must be "in the borrower's name"."""
    from accounts.models import PhoneCheck
    from accounts.selectors import account_phone_check

    check = account_phone_check(borrower)
    if check is not None and check.outcome == PhoneCheck.Outcome.MATCH:
        return
    answer = check.get_outcome_display() if check else _("never checked")
    raise LoanRefused(
        _(
            "The account phone %(phone)s is not confirmed in the borrower's name by the carrier "
            "(its answer: %(answer)s). No loan can be disbursed until it is."
        )
        % {"phone": borrower.masked_phone, "answer": answer},
        code="phone_unconfirmed",
    )


def scheduled_installments(loan: Loan, first_due: date) -> list[Installment]:
    """The loan's equal-installment schedule as unsaved rows, each collectable from its due date."""
    return [
        Installment(
            loan=loan,
            number=row.number,
            due_date=row.due_date,
            principal_due=row.principal,
            interest_due=row.interest,
            next_attempt_at=collection_start(row.due_date),
        )
        for row in schedule(loan.principal, loan.annual_rate, loan.term_months, first_due)
    ]
