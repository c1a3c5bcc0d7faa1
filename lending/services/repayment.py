"""Borrowers paying on their own (DESIGN.md "Borrower payments", 主动还款 / 提前还款): repay
due and overdue installments now, or pay the loan off early, from any of their debit cards with
an active mandate, with a code to the account phone.

The same three steps as the collection (``lending.services.collection``): ``borrower_debits_open``
writes a pending attempt per installment (trigger "borrower" or "payoff", the usual key) and
audits it, ``bank_outcomes`` asks the bank (a timeout is settled by querying the key, never by
debiting again), ``debit_attempts_settle`` records the answers. The one pending attempt per
installment the database allows holds across these and the morning run: whichever opens first
debits, the other leaves the installment alone and says so. A failed payment leaves the
collection schedule as it was (the borrower sees it fail on the page).

A payment is named by the ``payment_ref`` of the form it came from: a form sent again finds its
attempts and pays nothing more (the code is single-use as well).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SmsCode
from accounts.services.codes import sms_code_send, sms_code_verify
from accounts.services.freeze import ensure_not_frozen
from audit.actions import Action
from audit.services import SubjectRef, record_many
from lending.amounts import Payment, installments_payment, payoff_payment
from lending.errors import DomainError
from lending.models import DebitAttempt, Installment, Loan
from lending.pii import mask_card
from lending.prepared import Prepared
from lending.services.collection import Debit, bank_outcomes, debit_attempts_settle

Purpose = SmsCode.Purpose
UNPAID = (Installment.Status.DUE, Installment.Status.OVERDUE)


class RepaymentRefused(DomainError):
    code = "repayment_refused"


@dataclass
class Repayment:
    """What a borrower's payment did: its attempts, and the installments left out and why."""

    attempts: list[DebitAttempt] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # installment number: why
    again: bool = False  # the same form sent again: nothing more was paid

    @property
    def paid(self) -> list[DebitAttempt]:
        return [a for a in self.attempts if a.status == DebitAttempt.Status.SUCCEEDED]


def payable_installments(loan: Loan, day: date) -> list[Installment]:
    """The loan's unpaid installments due by ``day`` or marked overdue, in order (those rows only,
    in a read compiled once: lending/prepared.py)."""
    if loan.status not in Loan.BEING_REPAID:
        return []
    payable = _payable(loan.pk, day)
    for installment in payable:
        Installment.loan.field.set_cached_value(installment, loan)
    return payable


_payable = Prepared(
    lambda loan_id, day: (
        Installment.objects.filter(loan_id=loan_id, status__in=UNPAID)
        .filter(Q(due_date__lte=day) | Q(status=Installment.Status.OVERDUE))
        .order_by("number")
    ),
    int,
    date,
)


def repayment_cards(borrower):
    """The borrower's cards a payment can be debited from: active debit cards with an active mandate."""
    return _repayment_cards(borrower.pk)


def _repayment_cards(user_id: int):
    from cards.models import Card, Mandate

    with_mandate = Mandate.objects.filter(status=Mandate.Status.ACTIVE).values("card_id")
    return Card.objects.filter(
        user_id=user_id, status=Card.Status.ACTIVE, card_type="debit", pk__in=with_mandate
    ).order_by("-is_repayment", "bound_at")


_repayment_card_list = Prepared(_repayment_cards, int)  # the payment pages list them on every view


def repayment_card_list(borrower) -> list:
    """``repayment_cards`` as a list, compiled once (lending/prepared.py)."""
    return _repayment_card_list(borrower.pk)


def loan_payoff_quote(loan: Loan, day: date) -> Payment:
    """What settling the loan on ``day`` costs (lending/amounts.py), part by installment."""
    return payoff_payment(loan, list(loan.installments.order_by("number")), day)


def loan_repay_code_send(*, actor, loan: Loan, purpose: str) -> None:
    """A code to the account phone for paying this loan (``purpose`` LOAN_REPAY or LOAN_PAYOFF)."""
    ensure_not_frozen(actor)
    sms_code_send(purpose=purpose, target=loan.pk, phone=actor.phone, user=actor, actor=actor)


def _attempts_of(loan: Loan, payment_ref: str) -> list[DebitAttempt]:
    attempts = DebitAttempt.objects.filter(installment__loan=loan, payment_ref=payment_ref)
    return list(attempts.select_related("installment", "card").order_by("installment__number"))


def _card_mandate(actor, card_id: int):
    """The card's active mandate, if it is one of the borrower's cards that can be debited."""
    from cards.models import Mandate

    card = repayment_cards(actor).filter(pk=card_id).first()
    if card is None:
        raise RepaymentRefused(_("Choose one of your debit cards that can be debited."), code="card")
    return Mandate.objects.select_related("card").get(card=card, status=Mandate.Status.ACTIVE)


def loan_repay(*, actor, loan: Loan, installment_ids, card_id: int, code: str, payment_ref: str) -> Repayment:
    """Pay the chosen installments (due or overdue, of this loan) now from one of the borrower's
    cards, with the code sent for this loan. Ids not of this loan's payable installments are
    refused and nothing is paid."""
    ensure_not_frozen(actor)
    if attempts := _attempts_of(loan, payment_ref):
        return Repayment(attempts, again=True)
    day = timezone.localdate()
    payable = {i.pk: i for i in payable_installments(loan, day)}
    chosen = [int(pk) for pk in installment_ids]
    if not chosen:
        raise RepaymentRefused(_("Choose at least one installment to pay."), code="nothing_chosen")
    if not set(chosen) <= set(payable):
        raise RepaymentRefused(
            _("Only installments of this loan that are due can be paid here."), code="not_payable"
        )
    mandate = _card_mandate(actor, card_id)
    sms_code_verify(purpose=Purpose.LOAN_REPAY, target=loan.pk, code=code, actor=actor, user=actor)
    amounts = installments_payment([payable[pk] for pk in sorted(chosen)], loan.product, day).amounts()
    return _pay(
        actor=actor,
        loan=loan,
        amounts=amounts,
        mandate=mandate,
        payment_ref=payment_ref,
        trigger=DebitAttempt.Trigger.BORROWER,
    )


def loan_payoff(*, actor, loan: Loan, card_id: int, code: str, payment_ref: str, total: Decimal) -> Repayment:
    """Settle the loan today for the ``total`` the borrower was shown (``loan_payoff_quote``);
    refused if it changed since (a new day, a payment meanwhile) or a debit awaits the bank."""
    ensure_not_frozen(actor)
    if attempts := _attempts_of(loan, payment_ref):
        return Repayment(attempts, again=True)
    if loan.status not in Loan.BEING_REPAID:
        raise RepaymentRefused(_("This loan is not being repaid any more."), code="not_payable")
    quote = loan_payoff_quote(loan, timezone.localdate())
    if quote.total != total:
        raise RepaymentRefused(
            _("The amount to settle the loan has changed to ¥%(total)s. Check it and confirm again.")
            % {"total": quote.total},
            code="amount_changed",
        )
    mandate = _card_mandate(actor, card_id)
    sms_code_verify(purpose=Purpose.LOAN_PAYOFF, target=loan.pk, code=code, actor=actor, user=actor)
    return _pay(
        actor=actor,
        loan=loan,
        amounts=quote.amounts(),
        mandate=mandate,
        payment_ref=payment_ref,
        trigger=DebitAttempt.Trigger.PAYOFF,
    )


def _pay(*, actor, loan, amounts: dict[int, Decimal], mandate, payment_ref: str, trigger: str) -> Repayment:
    """Open, ask the bank, settle: the collection's three steps for one borrower's payment."""
    opened, skipped = borrower_debits_open(
        actor=actor, amounts=amounts, mandate=mandate, payment_ref=payment_ref, trigger=trigger
    )
    if opened:
        outcomes = bank_outcomes(opened)
        answered = {key: result for key, result in outcomes.items() if result is not None}
        if answered:
            debit_attempts_settle(outcomes=answered, day=timezone.localdate())
    attempts = _attempts_of(loan, payment_ref)
    if not attempts and skipped:
        raise RepaymentRefused(" ".join(dict.fromkeys(skipped.values())), code="nothing_to_pay")
    return Repayment(attempts, skipped, again=not opened and bool(attempts))


IN_FLIGHT = "in_flight"


@transaction.atomic
def borrower_debits_open(
    *, actor, amounts: dict[int, Decimal], mandate, payment_ref: str, trigger: str
) -> tuple[list[Debit], dict[int, str]]:
    """Step 1 for a borrower's payment: lock the installments, leave out those paid meanwhile or
    with a debit in flight (the morning run's, or another payment's), and open a pending attempt
    for each of the rest, audited with the borrower as actor. An early payoff is all or nothing.
    Returns the debits to send and the installments left out (number: why)."""
    installments = list(
        Installment.objects.select_for_update(of=("self",)).filter(pk__in=list(amounts)).order_by("pk")
    )
    if DebitAttempt.objects.filter(payment_ref=payment_ref).exists():  # the same form, a moment ago
        return [], {}
    in_flight = set(
        DebitAttempt.objects.filter(
            installment_id__in=list(amounts), status=DebitAttempt.Status.PENDING
        ).values_list("installment_id", flat=True)
    )
    skipped = {}
    for installment in installments:
        if installment.status == Installment.Status.PAID:
            skipped[installment.number] = _("Installment %(number)s is already paid.") % {
                "number": installment.number
            }
        elif installment.pk in in_flight:
            skipped[installment.number] = _(
                "Installment %(number)s is being collected by a debit that is waiting for the bank's "
                "answer; it was not paid again."
            ) % {"number": installment.number}
    if trigger == DebitAttempt.Trigger.PAYOFF and skipped:
        raise RepaymentRefused(
            " ".join(skipped.values()) + " " + _("Try again once it is settled."), code=IN_FLIGHT
        )
    last = _last_numbers([i.pk for i in installments])
    now, opened, entries = timezone.now(), [], []
    for installment in installments:
        if installment.number in skipped:
            continue
        number = last.get(installment.pk, 0) + 1
        key = DebitAttempt.key_for(installment.pk, number)
        attempt = DebitAttempt.objects.create(
            installment=installment,
            card=mandate.card,
            mandate=mandate,
            number=number,
            amount=amounts[installment.pk],
            idempotency_key=key,
            trigger=trigger,
            payment_ref=payment_ref,
            created_at=now,
        )
        opened.append(Debit(key, attempt.amount, mandate.token_encrypted, True, now))
        entries.append(_started_entry(attempt, installment, mandate))
    if entries:
        record_many(actor=actor, entries=entries)
    return opened, skipped


def _last_numbers(installment_ids: list[int]) -> dict[int, int]:
    from django.db.models import Max

    attempts = DebitAttempt.objects.filter(installment_id__in=installment_ids)
    return dict(
        attempts.values("installment_id").annotate(n=Max("number")).values_list("installment_id", "n")
    )


def _started_entry(attempt: DebitAttempt, installment: Installment, mandate) -> dict:
    return {
        "action": Action.DEBIT_STARTED,
        "subject": SubjectRef(DebitAttempt._meta.label_lower, str(attempt.pk)),
        "data": {
            "loan": installment.loan_id,
            "installment": installment.number,
            "attempt": attempt.number,
            "amount": str(attempt.amount),
            "card": mask_card(mandate.card.last4),
            "trigger": attempt.trigger,
        },
    }


def loan_payments(loan: Loan):
    """The borrower's own payments of the loan (for the back office and the loan page)."""
    return DebitAttempt.objects.filter(installment__loan=loan).filter(Q(trigger__in=DebitAttempt.BY_BORROWER))
