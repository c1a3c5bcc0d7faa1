"""Loans, their schedules and debit attempts (read only; repay now comes with its own session)."""

from django.http import Http404
from ninja import Query, Router

from api import present
from api.routes.auth import ERRORS
from api.schemas import AttemptList, InstallmentList, LoanDetail, LoanPage, ObjectId
from lending import selectors
from lending.models import Loan

router = Router(tags=["loans"])


def own_loan(user, loan_id: int, *, with_attempts: bool = False) -> Loan:
    """One of the borrower's loans with its schedule (and its debit attempts when asked: the
    schedule alone does not pay for them)."""
    try:
        if with_attempts:
            return selectors.loan_of(user, loan_id)
        return selectors.loan_with_schedule(user, loan_id)
    except Loan.DoesNotExist:
        raise Http404 from None


@router.get("", response={200: LoanPage, **ERRORS})
def loan_list(request, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)):
    loans = selectors.loans_of(request.auth.user)
    return present.cursor_page(loans, cursor=cursor, limit=limit, present=present.loan)


@router.get("/{id:loan_id}", response={200: LoanDetail, **ERRORS})
def loan_detail(request, loan_id: ObjectId):
    return present.loan_detail(own_loan(request.auth.user, loan_id))


@router.get("/{id:loan_id}/installments", response={200: InstallmentList, **ERRORS})
def installments(request, loan_id: ObjectId):
    loan = own_loan(request.auth.user, loan_id)
    return {"items": [present.installment(item) for item in loan.installments.all()]}


@router.get("/{id:loan_id}/attempts", response={200: AttemptList, **ERRORS})
def attempts(request, loan_id: ObjectId):
    """Every debit attempt of the loan, oldest first, with the card masked."""
    loan = own_loan(request.auth.user, loan_id, with_attempts=True)
    items = [attempt for item in loan.installments.all() for attempt in item.debit_attempts.all()]
    return {"items": [present.attempt(attempt) for attempt in items]}
