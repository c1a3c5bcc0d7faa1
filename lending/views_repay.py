"""The borrower pays from the loan page: repay due and overdue installments now, pay off early,
and the receipt."""

import uuid

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.decorators import borrower_required, frozen_refused
from accounts.models import SmsCode
from accounts.views.common import send_code
from lending import selectors
from lending.amounts import installments_payment
from lending.errors import DomainError
from lending.forms import BorrowerPaymentForm
from lending.models import DebitAttempt, Loan
from lending.services.repayment import (
    loan_payoff,
    loan_payoff_quote,
    loan_repay,
    loan_repay_code_send,
    payable_installments,
    repayment_card_list,
)

Purpose = SmsCode.Purpose


def _own_loan(request, loan_id: int) -> Loan:
    """The borrower's loan, without its schedule: these pages read the installments they need."""
    try:
        return selectors.own_loan(request.user, loan_id)
    except Loan.DoesNotExist:
        raise Http404 from None


def _draft(request, loan: Loan, kind: str) -> dict:
    """What the borrower chose before asking for the code (kept while they read it), with the
    form's reference: the same until the payment is made."""
    key = f"{kind}-{loan.pk}"
    draft = request.session.get(key)
    if draft is None:  # written once: a session written on every view costs Redis and PostgreSQL
        draft = request.session[key] = {"payment_ref": uuid.uuid4().hex}
    return draft


def _draft_keep(request, loan: Loan, kind: str, **choices) -> None:
    key = f"{kind}-{loan.pk}"
    request.session[key] = {**request.session.get(key, {}), **choices}


def _draft_end(request, loan: Loan, kind: str) -> None:
    request.session.pop(f"{kind}-{loan.pk}", None)


def _chosen_installments(request, loan: Loan) -> list[int]:
    """Installment ids posted: each must be one of this loan's (anything else answers 404)."""
    own = {installment.pk for installment in loan.installments.all()}
    try:
        chosen = [int(value) for value in request.POST.getlist("installments")]
    except ValueError:
        raise Http404 from None
    if not set(chosen) <= own:
        raise Http404
    return chosen


def _code_send(request, loan: Loan, purpose: str) -> None:
    sent = _("We sent a code to %(phone)s.") % {"phone": request.user.masked_phone}
    send_code(request, lambda: loan_repay_code_send(actor=request.user, loan=loan, purpose=purpose), sent)


@frozen_refused
def repay(request, loan_id: int):
    """Pay due and overdue installments now (all by default, or those ticked) from a chosen card."""
    loan = _own_loan(request, loan_id)
    today = timezone.localdate()
    payable = payable_installments(loan, today)
    if not payable and request.method != "POST":  # a form sent again still reaches its receipt
        return render(request, "lending/repay.html", {"loan": loan, "payable": payable})
    payment = installments_payment(payable, loan.product, today)
    cards = repayment_card_list(request.user)
    draft = _draft(request, loan, "repay")
    form = BorrowerPaymentForm(request.POST or None, cards=cards, initial=draft)
    chosen = draft.get("installments") or [i.pk for i in payable]
    if request.method == "POST":
        chosen = _chosen_installments(request, loan)
        if form.is_valid() and request.POST.get("send"):
            _draft_keep(request, loan, "repay", installments=chosen, card=form.cleaned_data["card"])
            _code_send(request, loan, Purpose.LOAN_REPAY)
            return redirect("loan_repay", loan.pk)
        if form.is_valid():
            try:
                repayment = loan_repay(
                    actor=request.user,
                    loan=loan,
                    installment_ids=chosen,
                    card_id=form.cleaned_data["card"],
                    code=form.cleaned_data["code"],
                    payment_ref=form.cleaned_data["payment_ref"],
                )
            except DomainError as exc:
                form.add_error(None, exc.as_form_error())
            else:
                _draft_end(request, loan, "repay")
                return _to_receipt(request, loan, repayment)
    context = {
        "loan": loan,
        "payable": payable,
        "payment": payment,
        "form": form,
        "cards": cards,
        "chosen": chosen,
    }
    return render(request, "lending/repay.html", context, status=400 if form.errors else 200)


@frozen_refused
def payoff(request, loan_id: int):
    """Settle the loan today: the amount is shown, part by part, before the borrower confirms."""
    loan = _own_loan(request, loan_id)
    if loan.status not in Loan.BEING_REPAID:
        messages.info(request, _("This loan is not being repaid any more."))
        return redirect("loan_detail", loan.pk)
    quote = loan_payoff_quote(loan, timezone.localdate())
    cards = repayment_card_list(request.user)
    draft = _draft(request, loan, "payoff")
    form = BorrowerPaymentForm(request.POST or None, cards=cards, initial=draft)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("send"):
            _draft_keep(request, loan, "payoff", card=form.cleaned_data["card"])
            _code_send(request, loan, Purpose.LOAN_PAYOFF)
            return redirect("loan_payoff", loan.pk)
        try:
            repayment = loan_payoff(
                actor=request.user,
                loan=loan,
                card_id=form.cleaned_data["card"],
                code=form.cleaned_data["code"],
                payment_ref=form.cleaned_data["payment_ref"],
                total=quote.total,
            )
        except DomainError as exc:
            form.add_error(None, exc.as_form_error())
        else:
            _draft_end(request, loan, "payoff")
            return _to_receipt(request, loan, repayment)
    context = {"loan": loan, "quote": quote, "form": form, "cards": cards}
    return render(request, "lending/payoff.html", context, status=400 if form.errors else 200)


def _to_receipt(request, loan: Loan, repayment):
    """Say what happened, in words, then show the receipt."""
    if repayment.again:
        messages.info(request, _("This payment was already made: nothing more was debited."))
    for why in repayment.skipped.values():
        messages.warning(request, why)
    attempts = repayment.attempts
    if any(a.status == DebitAttempt.Status.PENDING for a in attempts):
        messages.info(
            request,
            _("The bank has not answered yet. Nothing is debited twice: we ask the bank again shortly."),
        )
    return redirect("loan_payment", loan.pk, attempts[0].payment_ref)


@borrower_required
@require_GET
def receipt(request, loan_id: int, payment_ref: str):
    """The receipt of one payment: what was paid, from which card, and the bank's reference."""
    loan = _own_loan(request, loan_id)
    attempts = selectors.payment_of(loan, payment_ref)
    if not attempts:
        raise Http404
    paid = sum((a.amount for a in attempts if a.status == DebitAttempt.Status.SUCCEEDED), start=0)
    context = {"loan": loan, "attempts": attempts, "paid": paid, "card": attempts[0].card}
    return render(request, "lending/receipt.html", context)
