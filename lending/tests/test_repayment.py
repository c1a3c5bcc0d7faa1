"""Borrowers paying on their own: repay now from any card, pay off early, through the sandbox bank."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Notification, SmsCode
from accounts.tests.factories import BorrowerFactory
from audit.models import AuditEvent
from cards.models import Card
from cards.services import card_unbind
from cards.tests import sandbox_cards
from lending.models import DebitAttempt, Installment, Loan
from lending.services import installments_collect, loans_collect
from lending.services.repayment import (
    RepaymentRefused,
    loan_payoff,
    loan_payoff_quote,
    loan_repay,
)

pytestmark = pytest.mark.django_db

Purpose = SmsCode.Purpose


@pytest.fixture
def overdue_loan(bind, borrower, make_loan):
    """A borrower whose repayment card has no money (its debit failed), and a second, good card."""
    empty = bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    good = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    today = timezone.localdate()
    loan = make_loan(borrower, first_due=today - timedelta(days=5))
    [failed] = loans_collect(loan_ids=[loan.pk], day=today)
    assert (failed.status, failed.failure_code) == ("failed", "insufficient_funds")
    assert loan.installments.get(number=1).status == Installment.Status.OVERDUE
    return loan, empty, good


def ref() -> str:
    return uuid.uuid4().hex


def test_repay_one_overdue_installment_from_a_second_card(
    overdue_loan, borrower, repay_code, bank, sms_outbox
):
    loan, empty, good = overdue_loan
    first = loan.installments.get(number=1)
    before = first.next_attempt_at
    texts_before = len(sms_outbox)

    repayment = loan_repay(
        actor=borrower,
        loan=loan,
        installment_ids=[first.pk],
        card_id=good.pk,
        code=repay_code(borrower, loan),
        payment_ref=ref(),
    )

    [attempt] = repayment.attempts
    assert (attempt.status, attempt.trigger, attempt.card, attempt.number) == (
        "succeeded",
        "borrower",
        good,
        2,
    )
    assert attempt.idempotency_key == DebitAttempt.key_for(first.pk, 2) and attempt.gateway_reference
    assert attempt.amount == first.amount_due
    first.refresh_from_db()
    assert first.status == Installment.Status.PAID and first.next_attempt_at is None
    assert first.history.first().history_change_reason == "paid by the borrower (debit attempt 2)"
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE  # nothing overdue any more
    [debit] = bank.debits(status="succeeded")  # the bank's ledger: one debit, from the good card
    assert debit["order_no"] == attempt.idempotency_key and debit["amount_fen"] == int(attempt.amount * 100)
    assert bank.agreement(good.active_mandate.token)["balance_fen"] < 100_000_000
    started = AuditEvent.objects.get(action="debit.started", subject_id=str(attempt.pk))
    assert started.actor_id == borrower.pk and started.data["trigger"] == "borrower"
    assert started.data["card"] == good.masked_number
    assert (
        AuditEvent.objects.get(action="debit.succeeded", subject_id=str(attempt.pk)).data["trigger"]
        == "borrower"
    )
    # The run the next morning has nothing to collect on it.
    assert (
        installments_collect(installment_ids=[first.pk], day=timezone.localdate() + timedelta(days=1)) == []
    )
    assert len(bank.debits()) == 2  # the failed morning debit and the borrower's
    assert len(sms_outbox) == texts_before + 1  # only the code: no "debit failed" text
    assert before is not None


def test_a_failed_payment_leaves_the_collection_schedule_as_it_was(overdue_loan, borrower, repay_code, bank):
    loan, empty, good = overdue_loan
    first = loan.installments.get(number=1)
    notices = Notification.objects.filter(kind__startswith="debit_failed").count()

    repayment = loan_repay(
        actor=borrower,
        loan=loan,
        installment_ids=[first.pk],
        card_id=empty.pk,
        code=repay_code(borrower, loan),
        payment_ref=ref(),
    )

    [attempt] = repayment.attempts
    assert (attempt.status, attempt.failure_code) == ("failed", "insufficient_funds")
    after = Installment.objects.get(pk=first.pk)
    assert (after.status, after.next_attempt_at, after.soft_failures) == (
        first.status,
        first.next_attempt_at,
        first.soft_failures,
    )
    assert Notification.objects.filter(kind__startswith="debit_failed").count() == notices


def test_pay_everything_due(bind, borrower, make_loan, repay_code, bank):
    card = bind(borrower)
    today = timezone.localdate()
    loan = make_loan(borrower, first_due=today - timedelta(days=31))  # two due, one not yet
    due = list(loan.installments.filter(due_date__lte=today).order_by("number"))
    assert len(due) == 2

    repayment = loan_repay(
        actor=borrower,
        loan=loan,
        installment_ids=[i.pk for i in due],
        card_id=card.pk,
        code=repay_code(borrower, loan),
        payment_ref=ref(),
    )

    assert [a.status for a in repayment.attempts] == ["succeeded", "succeeded"]
    assert sorted(d["order_no"] for d in bank.debits(status="succeeded")) == sorted(
        a.idempotency_key for a in repayment.attempts
    )
    statuses = list(loan.installments.order_by("number").values_list("status", flat=True))
    assert statuses == ["paid", "paid", "due"]


def test_the_early_payoff_amount_on_a_known_schedule_then_the_loan_is_settled(
    bind, borrower, make_loan, repay_code, bank, action_code
):
    """3,000 at 12% over 3 months, disbursed 2026-11-15, first due 2026-12-15: installments of
    1,020.07 (principal 990.07 + interest 30.00), 1,020.07 (999.97 + 20.10), 1,020.06
    (1,009.96 + 10.10). The first is collected on its due date. On 2027-01-01 the second's
    period (2026-12-15 to 2027-01-15, 31 days) has run 17 days: interest 20.10 x 17 / 31 =
    11.0226 -> 11.02. Remaining principal 999.97 + 1,009.96 = 2,009.93; payoff 2,020.95."""
    card = bind(borrower)
    tz = timezone.get_current_timezone()
    with bank.travel(datetime(2026, 11, 15, 10, tzinfo=tz)):
        loan = make_loan(borrower, first_due=datetime(2026, 12, 15).date())
    with bank.travel(datetime(2026, 12, 15, 8, tzinfo=tz)):
        [collected] = loans_collect(loan_ids=[loan.pk], day=datetime(2026, 12, 15).date())
    assert collected.amount == Decimal("1020.07")

    with bank.travel(datetime(2027, 1, 1, 10, tzinfo=tz), tick=True):
        quote = loan_payoff_quote(loan, timezone.localdate())
        assert (quote.principal, quote.interest, quote.fee) == (Decimal("2009.93"), Decimal("11.02"), 0)
        assert quote.total == Decimal("2020.95")
        assert [p.amount for p in quote.parts] == [Decimal("1010.99"), Decimal("1009.96")]
        repayment = loan_payoff(
            actor=borrower,
            loan=loan,
            card_id=card.pk,
            code=repay_code(borrower, loan, Purpose.LOAN_PAYOFF),
            payment_ref=ref(),
            total=Decimal("2020.95"),
        )

    assert [a.trigger for a in repayment.attempts] == ["payoff", "payoff"]
    assert sum(a.amount for a in repayment.paid) == Decimal("2020.95")
    assert sum(d["amount_fen"] for d in bank.debits(status="succeeded")) == 102007 + 202095
    loan.refresh_from_db()
    assert loan.status == Loan.Status.PAID_OFF and loan.outstanding == 0
    assert set(loan.installments.values_list("status", "next_attempt_at")) == {("paid", None)}
    assert loan.history.first().history_change_reason == "paid off"
    # Its repayment card is no longer needed: it can be unbound without a swap.
    unbound = card_unbind(actor=borrower, card=card, code=action_code(borrower, "card_unbind", card.pk))
    assert unbound.status == Card.Status.UNBOUND


def test_an_early_repayment_fee_and_late_charges_come_from_product_settings(
    bind, borrower, make_loan, settings
):
    bind(borrower)
    today = timezone.localdate()
    loan = make_loan(borrower, first_due=today - timedelta(days=10))
    no_charges = loan_payoff_quote(loan, today)
    assert no_charges.fee == no_charges.late_charges == 0

    settings.LOAN_LATE_CHARGE_DAILY_RATES = {"phone": "0.001"}
    settings.LOAN_EARLY_REPAYMENT_FEE_RATES = {"phone": "0.01"}
    quote = loan_payoff_quote(loan, today)
    first = loan.installments.get(number=1)
    # On principal only, never on interest or an earlier charge: 990.07 x 0.001 x 10 = 9.90.
    assert (
        quote.late_charges
        == Decimal("9.90")
        == (first.principal_due * Decimal("0.01")).quantize(Decimal("0.01"))
    )
    early_principal = sum(i.principal_due for i in loan.installments.filter(number__gt=1))
    assert quote.fee == (early_principal / 100).quantize(Decimal("0.01"))
    assert quote.total == no_charges.total + quote.late_charges + quote.fee


def test_a_form_sent_twice_pays_once(overdue_loan, borrower, repay_code, bank):
    loan, empty, good = overdue_loan
    first = loan.installments.get(number=1)
    payment_ref, code = ref(), repay_code(borrower, loan)
    pay = lambda: loan_repay(  # noqa: E731
        actor=borrower,
        loan=loan,
        installment_ids=[first.pk],
        card_id=good.pk,
        code=code,
        payment_ref=payment_ref,
    )
    one, two = pay(), pay()
    assert not one.again and two.again
    assert [a.pk for a in one.attempts] == [a.pk for a in two.attempts]
    assert len(bank.debits(status="succeeded")) == 1


def test_a_timeout_after_the_bank_debited_is_settled_by_query(overdue_loan, borrower, repay_code, bank):
    loan, empty, good = overdue_loan
    first = loan.installments.get(number=1)
    code = repay_code(borrower, loan)
    bank.arm("timeout", operation="debit_batch", when="after")

    repayment = loan_repay(
        actor=borrower, loan=loan, installment_ids=[first.pk], card_id=good.pk, code=code, payment_ref=ref()
    )

    [attempt] = repayment.attempts
    assert attempt.status == "succeeded" and attempt.resent_count == 0
    assert len(bank.debits(status="succeeded")) == 1
    assert Installment.objects.get(pk=first.pk).status == Installment.Status.PAID


def test_repay_now_then_the_morning_run_debit_the_installment_once(
    bind, borrower, make_loan, repay_code, bank
):
    card = bind(borrower)
    today = timezone.localdate()
    loan = make_loan(borrower, first_due=today)  # due today: the morning run would collect it
    first = loan.installments.get(number=1)
    loan_repay(
        actor=borrower,
        loan=loan,
        installment_ids=[first.pk],
        card_id=card.pk,
        code=repay_code(borrower, loan),
        payment_ref=ref(),
    )
    assert loans_collect(loan_ids=[loan.pk], day=today) == []
    assert DebitAttempt.objects.count() == len(bank.debits()) == 1


def test_the_morning_run_in_flight_then_repay_now_pays_nothing_and_says_why(
    bind, borrower, make_loan, repay_code, bank
):
    card = bind(borrower)
    today = timezone.localdate()
    loan = make_loan(borrower, first_due=today)
    first = loan.installments.get(number=1)
    bank.arm("timeout", operation="debit_batch", when="after")
    bank.arm("timeout", operation="query", times=3)
    [pending] = loans_collect(loan_ids=[loan.pk], day=today)  # the bank debited; no answer yet
    assert pending.status == "pending"

    with pytest.raises(RepaymentRefused, match="waiting for the bank's answer"):
        loan_repay(
            actor=borrower,
            loan=loan,
            installment_ids=[first.pk],
            card_id=card.pk,
            code=repay_code(borrower, loan),
            payment_ref=ref(),
        )
    with bank.travel(timezone.now() + timedelta(minutes=16), tick=True):
        [settled] = loans_collect(loan_ids=[loan.pk], day=today)
    assert settled.pk == pending.pk and settled.status == "succeeded"
    assert DebitAttempt.objects.count() == len(bank.debits()) == 1


def test_installments_not_due_or_another_loans_are_refused_and_nothing_changes(
    bind, borrower, make_loan, repay_code, bank
):
    card = bind(borrower)
    loan = make_loan(borrower)  # nothing due yet
    code = repay_code(borrower, loan)
    not_due = loan.installments.get(number=1)
    with pytest.raises(RepaymentRefused, match="that are due"):
        loan_repay(
            actor=borrower,
            loan=loan,
            installment_ids=[not_due.pk],
            card_id=card.pk,
            code=code,
            payment_ref=ref(),
        )
    with pytest.raises(RepaymentRefused, match="that are due"):
        loan_repay(
            actor=borrower, loan=loan, installment_ids=[10**9], card_id=card.pk, code=code, payment_ref=ref()
        )
    assert DebitAttempt.objects.count() == len(bank.debits()) == 0
    assert SmsCode.objects.get(purpose=Purpose.LOAN_REPAY).code_hash  # the code was not used up


def test_another_borrowers_card_is_refused(overdue_loan, borrower, repay_code, bind, bank):
    loan, empty, good = overdue_loan
    other = BorrowerFactory(phone="+8613900139000")
    from accounts.services import identity_verify

    identity_verify(actor=other, real_name="李四", id_number="11010519491231002X")
    theirs = bind(other, sandbox_cards.THIRD_GOOD_DEBIT, reserved="+8613900139000")
    with pytest.raises(RepaymentRefused, match="debit cards"):
        loan_repay(
            actor=borrower,
            loan=loan,
            installment_ids=[loan.installments.get(number=1).pk],
            card_id=theirs.pk,
            code=repay_code(borrower, loan),
            payment_ref=ref(),
        )
    assert not bank.debits(status="succeeded")
