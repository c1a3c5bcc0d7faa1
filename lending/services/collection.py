"""Collecting installments through the repayment card's mandate (DESIGN.md section 5, seed 002).

A debit is two short transactions around one exchange with the bank, so no row lock is held
while the bank answers, and each step works on a batch of installments (one row or thousands,
the same code):

1. ``debit_attempts_open`` locks the installments and writes a pending ``DebitAttempt`` each,
   whose idempotency key is derived from the installment and the attempt number;
2. ``bank_outcomes`` asks the bank to debit under those keys (a timeout is resolved by
   *querying* the key, never by debiting again);
3. ``debit_attempts_settle`` records the answers: paid, a retry days later (soft failures), or
   stopped (hard failures), and tells the borrower when a debit failed.

A worker that dies between 1 and 3 leaves its attempts pending; once older than
``AUTODEBIT_IN_FLIGHT_MINUTES`` the next run settles them by querying the bank. The database
holds at most one pending and one successful attempt per installment (constraints), and the
bank debits a key once: re-runs, duplicate deliveries and two workers collect once.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.context import system_job
from audit.services import record, record_many
from cards.gateways import get_gateway
from cards.gateways.base import DebitRequest, DebitResult, GatewayUnavailable
from lending.db import bulk_update
from lending.errors import DomainError
from lending.models import DebitAttempt, Installment, Loan

NO_ANSWER = "no_answer"  # the bank never received the debit (timeout or a worker died): soft
NO_REPAYMENT_CARD = "no_repayment_card"  # nothing to debit: hard
MANDATE_REVOKED = "mandate_revoked"  # the bank ended the mandate: hard


class RetryRefused(DomainError):
    code = "retry_refused"


def collection_start(day: date) -> datetime:
    """Midnight of ``day`` in TIME_ZONE: when an installment due that day becomes collectable."""
    return timezone.make_aware(datetime.combine(day, time.min))


def collectable_before(day: date) -> datetime:
    """A run for ``day`` collects what is due up to the end of that day."""
    return collection_start(day + timedelta(days=1))


def _in_flight_since() -> datetime:
    """A pending attempt created before this is not in flight any more: its worker is gone."""
    return timezone.now() - timedelta(minutes=settings.AUTODEBIT_IN_FLIGHT_MINUTES)


@dataclass(frozen=True)
class Opened:
    attempt: DebitAttempt
    ask_bank: bool  # False: settle by querying its key (a stale pending attempt), or without the bank


def _repayment_cards(borrower_ids) -> dict:
    """Each borrower's live repayment card with its mandates, in two queries."""
    from cards.models import LIVE, Card

    cards = Card.objects.filter(user_id__in=borrower_ids, is_repayment=True, status__in=LIVE)
    return {card.user_id: card for card in cards.prefetch_related("mandates")}


def debit_attempts_open(
    *, installment_ids, day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE
) -> list[Opened]:
    """Start one debit of each installment that is due (or, for an officer, unpaid); leave out the
    paid, the not yet due, and those with a debit in flight. Stale pending attempts come back to
    be settled by a query."""
    with transaction.atomic():
        installments = list(
            Installment.objects.select_for_update(of=("self",))
            .select_related("loan")
            .filter(pk__in=list(installment_ids))
            .order_by("pk")
        )
        ids = [installment.pk for installment in installments]
        attempts = DebitAttempt.objects.filter(installment_id__in=ids)
        pending = {a.installment_id: a for a in attempts.filter(status=DebitAttempt.Status.PENDING)}
        last = dict(
            attempts.values("installment_id").annotate(n=Max("number")).values_list("installment_id", "n")
        )
        cards = _repayment_cards({installment.loan.borrower_id for installment in installments})
        opened, new = [], []
        for installment in installments:
            if installment.pk in pending:
                if pending[installment.pk].created_at < _in_flight_since():
                    opened.append(Opened(pending[installment.pk], ask_bank=False))
            elif _collectable(installment, day, trigger):
                new.append(_new_attempt(installment, cards.get(installment.loan.borrower_id), last, trigger))
        DebitAttempt.objects.bulk_create(new)
    return opened + [Opened(attempt, ask_bank=attempt.mandate_id is not None) for attempt in new]


def _collectable(installment: Installment, day: date, trigger: str) -> bool:
    if installment.status == Installment.Status.PAID or installment.next_attempt_at is None:
        return False
    return trigger != DebitAttempt.Trigger.SCHEDULE or installment.next_attempt_at < collectable_before(day)


def _new_attempt(installment: Installment, card, last: dict, trigger: str) -> DebitAttempt:
    mandate = card.debit_mandate if card is not None else None
    number = (last.get(installment.pk) or 0) + 1
    return DebitAttempt(
        installment=installment,
        card=card if mandate else None,
        mandate=mandate,
        number=number,
        amount=installment.amount_due - installment.paid_amount,
        idempotency_key=DebitAttempt.key_for(installment.pk, number),
        trigger=trigger,
    )


def bank_outcomes(opened: list[Opened]) -> dict[int, DebitResult | None]:
    """What the bank did with each attempt's key, by attempt id: debited (once), or queried.
    None: no answer yet (the attempt stays pending)."""
    gateway = get_gateway()
    outcomes = {
        o.attempt.pk: DebitResult(False, failure_code=NO_REPAYMENT_CARD)
        for o in opened
        if not o.attempt.mandate_id
    }
    to_debit = [o.attempt for o in opened if o.ask_bank]
    try:
        debited = gateway.debit_many(
            [DebitRequest(a.mandate.token, a.amount, a.idempotency_key) for a in to_debit]
        )
    except GatewayUnavailable:  # the whole exchange timed out: each key is queried below
        debited = {}
    for attempt in to_debit:
        outcomes[attempt.pk] = debited.get(attempt.idempotency_key)
    for o in opened:
        if o.attempt.pk not in outcomes or (o.ask_bank and outcomes[o.attempt.pk] is None):
            outcomes[o.attempt.pk] = _query(gateway, o.attempt)
    return outcomes


def _query(gateway, attempt: DebitAttempt) -> DebitResult | None:
    try:
        outcome = gateway.query_debit(idempotency_key=attempt.idempotency_key)
    except GatewayUnavailable:
        return None
    return outcome if outcome is not None else DebitResult(False, failure_code=NO_ANSWER, soft=True)


@transaction.atomic
def debit_attempts_settle(*, outcomes: dict[int, DebitResult], day: date) -> list[DebitAttempt]:
    """Record the bank's answers once; settling an attempt again changes nothing."""
    installment_ids = DebitAttempt.objects.filter(pk__in=outcomes).values_list("installment_id", flat=True)
    installments = {
        i.pk: i
        for i in Installment.objects.select_for_update(of=("self",))
        .select_related("loan__borrower")
        .filter(pk__in=list(installment_ids))
        .order_by("pk")
    }
    locked = (
        DebitAttempt.objects.select_for_update(of=("self",))
        .select_related("card")
        .filter(pk__in=outcomes, status=DebitAttempt.Status.PENDING)
        .order_by("pk")
    )
    now, settled = timezone.now(), []
    for attempt in locked:
        result = outcomes[attempt.pk]
        attempt.installment = installment = installments[attempt.installment_id]
        attempt.status = DebitAttempt.Status.SUCCEEDED if result.succeeded else DebitAttempt.Status.FAILED
        attempt.gateway_reference = result.reference
        attempt.failure_code = "" if result.succeeded else result.failure_code
        attempt.settled_at = now
        if result.succeeded:
            _installment_paid(installment, attempt)
        else:
            _installment_unpaid(installment, attempt, soft=result.soft, day=day)
        settled.append(attempt)
    if not settled:
        return settled
    bulk_update(settled, ["status", "gateway_reference", "failure_code", "settled_at"])
    changed = [a.installment for a in settled]
    bulk_update(changed, ["paid_amount", "status", "next_attempt_at", "soft_failures"])
    Installment.history.bulk_history_create(changed, update=True)
    _loan_statuses_update({i.loan for i in changed})
    _mandates_ended_by_bank([a.mandate_id for a in settled if a.failure_code == MANDATE_REVOKED], now)
    record_many(actor=None, entries=[_audit_entry(attempt) for attempt in settled])
    for attempt in settled:
        if attempt.status == DebitAttempt.Status.FAILED:
            _tell_borrower_debit_failed(attempt.installment, attempt)
    return settled


def _installment_paid(installment: Installment, attempt: DebitAttempt) -> None:
    installment.paid_amount += attempt.amount
    installment.status = Installment.Status.PAID
    installment.next_attempt_at = None
    installment.soft_failures = 0
    installment._change_reason = f"collected by debit attempt {attempt.number}"


def _installment_unpaid(installment: Installment, attempt: DebitAttempt, *, soft: bool, day: date) -> None:
    delays = settings.AUTODEBIT_RETRY_DAYS
    if soft and installment.soft_failures < len(delays):
        wait = timedelta(days=delays[installment.soft_failures])
        installment.next_attempt_at = collection_start(day + wait)
        installment.soft_failures += 1
    else:
        installment.next_attempt_at = None
    installment.status = Installment.Status.OVERDUE
    installment._change_reason = f"debit attempt {attempt.number} failed: {attempt.failure_code}"


def _mandates_ended_by_bank(mandate_ids: list[int], now) -> None:
    """The bank says a mandate is over: ours says so too, so the card page, the reminders and
    the next run all see the card cannot be debited."""
    from cards.models import Mandate

    mandates = list(
        Mandate.objects.select_for_update().filter(pk__in=mandate_ids, status=Mandate.Status.ACTIVE)
    )
    for mandate in mandates:
        mandate.status, mandate.revoked_at, mandate.revoked_at_bank = Mandate.Status.REVOKED, now, now
        mandate._change_reason = "revoked by the bank (a debit was refused)"
    if mandates:
        bulk_update(mandates, ["status", "revoked_at", "revoked_at_bank"])
        Mandate.history.bulk_history_create(mandates, update=True)


def _loan_statuses_update(loans: set[Loan]) -> None:
    """Paid off when nothing is left unpaid; overdue while an installment is; active otherwise."""
    unpaid = defaultdict(set)
    rows = Installment.objects.filter(loan__in=loans).exclude(status=Installment.Status.PAID)
    for loan_id, status in rows.values_list("loan_id", "status"):
        unpaid[loan_id].add(status)
    changed = []
    for loan in loans:
        if not unpaid[loan.pk]:
            status, reason = Loan.Status.PAID_OFF, "paid off"
        elif Installment.Status.OVERDUE in unpaid[loan.pk]:
            status, reason = Loan.Status.OVERDUE, "an installment was not collected"
        else:
            status, reason = Loan.Status.ACTIVE, "overdue installments collected"
        if loan.status in Loan.BEING_REPAID and loan.status != status:
            loan.status, loan._change_reason = status, reason
            changed.append(loan)
    if changed:
        bulk_update(changed, ["status"])
        Loan.history.bulk_history_create(changed, update=True)


def _audit_entry(attempt: DebitAttempt) -> dict:
    installment = attempt.installment
    succeeded = attempt.status == DebitAttempt.Status.SUCCEEDED
    return {
        "action": Action.DEBIT_SUCCEEDED if succeeded else Action.DEBIT_FAILED,
        "subject": attempt,
        "data": {
            "loan": installment.loan_id,
            "installment": installment.number,
            "attempt": attempt.number,
            "amount": str(attempt.amount),
            "card": attempt.card.masked_number if attempt.card else "",
            "failure_code": attempt.failure_code,
            "next_attempt_at": installment.next_attempt_at.isoformat() if installment.next_attempt_at else "",
        },
    }


def _tell_borrower_debit_failed(installment: Installment, attempt: DebitAttempt) -> None:
    borrower = installment.loan.borrower
    params = {
        "loan": installment.loan_id,
        "number": installment.number,
        "amount": str(attempt.amount),
        "card": str(attempt.card) if attempt.card else "",
    }
    if installment.next_attempt_at:
        params["retry_on"] = timezone.localdate(installment.next_attempt_at).isoformat()
        kind, link = "debit_failed_retry", f"/loans/{installment.loan_id}/"
    else:
        kind, link = "debit_failed_stopped", "/cards/"
    notification_create(user=borrower, kind=kind, params=params, link=link)
    sms_queue(to=borrower.phone, template=kind, context=params, language=borrower.language)


def installments_collect(
    *, installment_ids, day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE
) -> list[DebitAttempt]:
    """Collect the installments due by ``day``: open attempts, one exchange with the bank, settle.

    Returns the attempts touched (still pending ones too). Audited as the system job "autodebit".
    """
    with system_job("autodebit"):
        opened = debit_attempts_open(installment_ids=installment_ids, day=day, trigger=trigger)
        if not opened:
            return []
        outcomes = bank_outcomes(opened)
        answered = {pk: result for pk, result in outcomes.items() if result is not None}
        settled = {a.pk: a for a in debit_attempts_settle(outcomes=answered, day=day)} if answered else {}
        return [settled.get(o.attempt.pk, o.attempt) for o in opened]


def _to_collect(day: date) -> Q:
    """Installments a run for ``day`` visits: their next debit time has come (paid and stopped ones
    have none), or a debit of theirs is pending long enough to be settled by asking the bank."""
    pending = DebitAttempt.objects.filter(status=DebitAttempt.Status.PENDING)
    in_flight = pending.filter(created_at__lt=_in_flight_since())
    return Q(next_attempt_at__lt=collectable_before(day)) | Q(pk__in=in_flight.values("installment_id"))


def due_installments(day: date):
    return Installment.objects.filter(_to_collect(day), loan__status__in=Loan.BEING_REPAID)


def loans_collect(*, loan_ids, day: date) -> list[DebitAttempt]:
    """Collect the loans' installments due by ``day``, each loan's in order of number: a loan's
    next installment is tried only once the one before it is paid."""
    attempts, loan_ids = [], list(loan_ids)
    while loan_ids:
        due = due_installments(day).filter(loan_id__in=loan_ids).order_by("loan_id", "number")
        first_due = dict(reversed(list(due.values_list("loan_id", "pk"))))  # the lowest number per loan
        done = installments_collect(installment_ids=first_due.values(), day=day)
        attempts += done
        loan_ids = [a.installment.loan_id for a in done if a.status == DebitAttempt.Status.SUCCEEDED]
    return attempts


def loans_to_collect(day: date):
    """Ids of the loans a run for ``day`` visits, in order (the run fans them out in chunks)."""
    return due_installments(day).order_by("loan_id").values_list("loan_id", flat=True).distinct()


def installment_retry(*, actor, installment_id: int, note: str) -> Installment:
    """An officer asks for a failed installment to be debited again now (with a fresh set of retries)."""
    with transaction.atomic(durable=True):
        installment = Installment.objects.select_for_update().get(pk=installment_id)
        if installment.status == Installment.Status.PAID:
            raise RetryRefused(_("This installment is already paid."), code="paid")
        if installment.debit_attempts.filter(status=DebitAttempt.Status.PENDING).exists():
            raise RetryRefused(
                _("A debit of this installment is still waiting for the bank's answer."), code="in_flight"
            )
        installment.next_attempt_at = timezone.now()
        installment.soft_failures = 0
        installment._change_reason = "retry requested by an officer"
        installment.save()
        record(
            action=Action.DEBIT_RETRY_REQUESTED,
            actor=actor,
            subject=installment,
            data={"loan": installment.loan_id, "installment": installment.number, "note": note},
        )
    installments_collect(
        installment_ids=[installment_id], day=timezone.localdate(), trigger=DebitAttempt.Trigger.OFFICER
    )
    installment.refresh_from_db()
    return installment


def collection_resume(*, borrower) -> int:
    """A new repayment card: installments stopped for want of a usable card are collected again next run."""
    stopped = Installment.objects.filter(
        loan__borrower=borrower,
        loan__status__in=Loan.BEING_REPAID,
        status=Installment.Status.OVERDUE,
        next_attempt_at__isnull=True,
    )
    now = timezone.now()
    resumed = 0
    for installment in stopped.select_for_update():
        installment.next_attempt_at = now
        installment.soft_failures = 0
        installment._change_reason = "repayment card changed"
        installment.save()
        resumed += 1
    return resumed
