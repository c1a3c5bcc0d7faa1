"""A borrower's payment debits once however it is sent: ten submits at the same moment, and a
repay-now racing the morning run (threads on PostgreSQL, the sandbox bank's ledger checked)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from cards.tests import sandbox_cards
from lending.models import DebitAttempt, Installment
from lending.services import loans_collect
from lending.services.repayment import Repayment, loan_repay
from lending.tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_ten_concurrent_submits_of_the_same_form_pay_once(bind, borrower, make_loan, repay_code, bank):
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    good = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    today = timezone.localdate()
    loan = make_loan(borrower, first_due=today - timedelta(days=3))
    loans_collect(loan_ids=[loan.pk], day=today)  # fails: the installment is overdue
    first = loan.installments.get(number=1)
    code, payment_ref = repay_code(borrower, loan), uuid.uuid4().hex

    def submit():
        return loan_repay(
            actor=borrower,
            loan=loan,
            installment_ids=[first.pk],
            card_id=good.pk,
            code=code,
            payment_ref=payment_ref,
        )

    outcomes = race(*[submit] * 10)

    paid = [o for o in outcomes if isinstance(o, Repayment)]
    assert paid, outcomes
    # The others were told the code was used (or found the payment already made): no 500s.
    assert all(isinstance(o, Repayment) or getattr(o, "message", "") for o in outcomes), outcomes
    assert len(bank.debits(status="succeeded")) == 1
    assert DebitAttempt.objects.filter(trigger="borrower").count() == 1
    assert Installment.objects.get(pk=first.pk).status == Installment.Status.PAID


def test_repay_now_and_the_morning_run_at_the_same_moment_debit_once(
    bind, borrower, make_loan, repay_code, bank
):
    card = bind(borrower)
    today = timezone.localdate()
    loan = make_loan(borrower, first_due=today)
    first = loan.installments.get(number=1)
    code = repay_code(borrower, loan)

    def repay_now():
        return loan_repay(
            actor=borrower,
            loan=loan,
            installment_ids=[first.pk],
            card_id=card.pk,
            code=code,
            payment_ref=uuid.uuid4().hex,
        )

    outcomes = race(repay_now, lambda: loans_collect(loan_ids=[loan.pk], day=today))

    assert not [o for o in outcomes if isinstance(o, Exception) and not getattr(o, "message", "")], outcomes
    assert len(bank.debits(status="succeeded")) == 1
    assert DebitAttempt.objects.filter(status="succeeded").count() == 1
    assert Installment.objects.get(pk=first.pk).status == Installment.Status.PAID
