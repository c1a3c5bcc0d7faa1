"""Repay now and pay off early from the app (lending.views_repay as JSON): a quote with a fresh
payment reference, a code to the account phone, the payment, and its receipt.

A payment is named by its ``payment_ref`` as on the pages: sent again, it answers the same
receipt and debits nothing more (the Idempotency-Key aside).
"""

import uuid

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from accounts.models import SmsCode
from accounts.services import ensure_not_frozen
from api import present
from api.problems import ApiProblem
from api.routes.auth import ERRORS, valid
from api.routes.loans import own_loan
from api.schemas import CodeSent, ObjectId, PaymentDone, PaymentQuoteOut, PayoffIn, ReceiptOut, RepayIn
from lending import selectors
from lending.amounts import installments_payment
from lending.forms import BorrowerPaymentForm
from lending.models import Loan
from lending.services.repayment import (
    loan_payoff,
    loan_payoff_quote,
    loan_repay,
    loan_repay_code_send,
    payable_installments,
    repayment_cards,
)

router = Router(tags=["repayment"])
Purpose = SmsCode.Purpose


def _paying(request, loan_id: int) -> tuple:
    """The borrower (refused while frozen, as the pages' frozen_refused) and their loan."""
    user = request.auth.user
    ensure_not_frozen(user)
    return user, own_loan(user, loan_id)


def _form(payload, cards) -> dict:
    """The pages' payment form checks the card, the code and the reference."""
    data = {"card": payload.card, "code": payload.code, "payment_ref": payload.payment_ref}
    return valid(BorrowerPaymentForm(data, cards=list(cards)))


def _done(loan: Loan, repayment) -> dict:
    ref = repayment.attempts[0].payment_ref
    loan.refresh_from_db(fields=["status"])
    return {
        **present.receipt(loan, ref, repayment.attempts),
        "again": repayment.again,
        "notes": [str(why) for why in repayment.skipped.values()],
    }


@router.get("/{id:loan_id}/repay", response={200: PaymentQuoteOut, **ERRORS})
def repay_quote(request, loan_id: ObjectId):
    """The due and overdue installments, each with its late charge, and the cards to pay from."""
    user, loan = _paying(request, loan_id)
    today = timezone.localdate()
    payment = installments_payment(payable_installments(loan, today), loan.product, today)
    return present.payment_quote(payment, repayment_cards(user), uuid.uuid4().hex)


@router.post("/{id:loan_id}/repay/code", response={200: CodeSent, **ERRORS})
def repay_code(request, loan_id: ObjectId):
    user, loan = _paying(request, loan_id)
    loan_repay_code_send(actor=user, loan=loan, purpose=Purpose.LOAN_REPAY)
    return present.code_sent(user)


@router.post("/{id:loan_id}/repay", response={201: PaymentDone, **ERRORS})
def repay(request, loan_id: ObjectId, payload: RepayIn):
    """Pay the chosen installments now (ids not of this loan answer 404, as on the pages)."""
    user, loan = _paying(request, loan_id)
    if not set(payload.installments) <= set(loan.installments.values_list("pk", flat=True)):
        raise Http404
    data = _form(payload, repayment_cards(user))
    repayment = loan_repay(
        actor=user,
        loan=loan,
        installment_ids=payload.installments,
        card_id=data["card"],
        code=data["code"],
        payment_ref=data["payment_ref"],
    )
    return Status(201, _done(loan, repayment))


@router.get("/{id:loan_id}/payoff", response={200: PaymentQuoteOut, **ERRORS})
def payoff_quote(request, loan_id: ObjectId):
    """What settling the loan today costs, part by installment; confirm with this total."""
    user, loan = _paying(request, loan_id)
    if loan.status not in Loan.BEING_REPAID:
        raise ApiProblem(422, "not_payable", _("This loan is not being repaid any more."))
    payment = loan_payoff_quote(loan, timezone.localdate())
    return present.payment_quote(payment, repayment_cards(user), uuid.uuid4().hex)


@router.post("/{id:loan_id}/payoff/code", response={200: CodeSent, **ERRORS})
def payoff_code(request, loan_id: ObjectId):
    user, loan = _paying(request, loan_id)
    loan_repay_code_send(actor=user, loan=loan, purpose=Purpose.LOAN_PAYOFF)
    return present.code_sent(user)


@router.post("/{id:loan_id}/payoff", response={201: PaymentDone, **ERRORS})
def payoff(request, loan_id: ObjectId, payload: PayoffIn):
    """Settle the loan for the total shown (refused with amount_changed if it moved since)."""
    user, loan = _paying(request, loan_id)
    data = _form(payload, repayment_cards(user))
    repayment = loan_payoff(
        actor=user,
        loan=loan,
        card_id=data["card"],
        code=data["code"],
        payment_ref=data["payment_ref"],
        total=payload.total,
    )
    return Status(201, _done(loan, repayment))


@router.get("/{id:loan_id}/payments/{payment_ref}", response={200: ReceiptOut, **ERRORS})
def receipt(request, loan_id: ObjectId, payment_ref: str):
    """The receipt of one payment of the loan."""
    loan = own_loan(request.auth.user, loan_id)
    attempts = selectors.payment_of(loan, payment_ref)
    if not attempts:
        raise Http404
    return present.receipt(loan, payment_ref, attempts)
