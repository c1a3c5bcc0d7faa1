"""Collecting installments through the repayment card's mandate (DESIGN.md section 5, seed 002).

A debit is two short transactions around one call to the bank, so no row lock is held while
the bank answers:

1. ``debit_attempt_open`` locks the installment and writes a pending ``DebitAttempt`` whose
   idempotency key is derived from the installment and the attempt number;
2. the bank is asked to debit under that key (a timeout is resolved by *querying* the key,
   never by debiting again);
3. ``debit_attempt_settle`` records the answer: paid, a retry days later (soft failures), or
   stopped (hard failures), and tells the borrower when it failed.

A worker that dies between 1 and 3 leaves the attempt pending; once it is older than
``AUTODEBIT_IN_FLIGHT_MINUTES`` the next run settles it by querying the bank. The database
holds at most one pending and one successful attempt per installment (constraints), and the
bank debits a key once: re-runs, duplicate deliveries and two workers collect once.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.context import system_job
from audit.services import record
from cards.gateways import get_gateway
from cards.gateways.base import DebitResult, GatewayUnavailable
from lending.errors import DomainError
from lending.models import DebitAttempt, Installment, Loan

NO_ANSWER = "no_answer"  # the bank never received the debit (timeout or a worker died): soft
NO_REPAYMENT_CARD = "no_repayment_card"  # nothing to debit: hard


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
    attempt: DebitAttempt | None
    ask_bank: bool  # False: a stale pending attempt, to be settled by querying its key


def debit_attempt_open(
    *, installment_id: int, day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE
) -> Opened:
    """Start one debit of an installment, or say why not (paid, not due, in flight)."""
    with transaction.atomic():
        installment = (
            Installment.objects.select_for_update(of=("self",))
            .select_related("loan__borrower")
            .get(pk=installment_id)
        )
        pending = installment.debit_attempts.filter(status=DebitAttempt.Status.PENDING).first()
        if pending is not None:
            return Opened(pending if pending.created_at < _in_flight_since() else None, ask_bank=False)
        if installment.status == Installment.Status.PAID or installment.next_attempt_at is None:
            return Opened(None, ask_bank=False)
        not_yet = installment.next_attempt_at >= collectable_before(day)
        if not_yet and trigger == DebitAttempt.Trigger.SCHEDULE:
            return Opened(None, ask_bank=False)
        attempt = _new_attempt(installment, trigger)
    if attempt.mandate_id is None:
        attempt = debit_attempt_settle(
            attempt_id=attempt.pk, result=DebitResult(False, failure_code=NO_REPAYMENT_CARD), day=day
        )
        return Opened(attempt, ask_bank=False)
    return Opened(attempt, ask_bank=True)


def _new_attempt(installment: Installment, trigger: str) -> DebitAttempt:
    from cards.selectors import repayment_card

    card = repayment_card(installment.loan.borrower)
    mandate = card.active_mandate if card is not None and card.status == card.Status.ACTIVE else None
    last = installment.debit_attempts.order_by("-number").values_list("number", flat=True).first() or 0
    return DebitAttempt.objects.create(
        installment=installment,
        card=card if mandate else None,
        mandate=mandate,
        number=last + 1,
        amount=installment.amount_due - installment.paid_amount,
        idempotency_key=DebitAttempt.key_for(installment.pk, last + 1),
        trigger=trigger,
    )


def bank_outcome(attempt: DebitAttempt, *, ask_bank: bool) -> DebitResult | None:
    """What the bank did with the attempt's key: debit it (once), or query it. None: no answer yet."""
    gateway = get_gateway()
    if ask_bank:
        try:
            return gateway.debit(
                token=attempt.mandate.token, amount=attempt.amount, idempotency_key=attempt.idempotency_key
            )
        except GatewayUnavailable:
            pass
    try:
        outcome = gateway.query_debit(idempotency_key=attempt.idempotency_key)
    except GatewayUnavailable:
        return None
    return outcome if outcome is not None else DebitResult(False, failure_code=NO_ANSWER, soft=True)


@transaction.atomic
def debit_attempt_settle(*, attempt_id: int, result: DebitResult, day: date) -> DebitAttempt:
    """Record the bank's answer once; a second settle of the same attempt changes nothing."""
    attempt = DebitAttempt.objects.only("installment_id").get(pk=attempt_id)
    installment = (
        Installment.objects.select_for_update(of=("self",))
        .select_related("loan")
        .get(pk=attempt.installment_id)
    )
    attempt = DebitAttempt.objects.select_for_update(of=("self",)).select_related("card").get(pk=attempt_id)
    if attempt.status != DebitAttempt.Status.PENDING:
        return attempt
    attempt.status = DebitAttempt.Status.SUCCEEDED if result.succeeded else DebitAttempt.Status.FAILED
    attempt.gateway_reference = result.reference
    attempt.failure_code = "" if result.succeeded else result.failure_code
    attempt.settled_at = timezone.now()
    attempt.save(update_fields=["status", "gateway_reference", "failure_code", "settled_at"])
    attempt.installment = installment  # the caller reads the outcome (next attempt) from it
    if result.succeeded:
        _installment_paid(installment, attempt)
    else:
        _installment_unpaid(installment, attempt, soft=result.soft, day=day)
    record(
        action=Action.DEBIT_SUCCEEDED if result.succeeded else Action.DEBIT_FAILED,
        actor=None,
        subject=attempt,
        data={
            "loan": installment.loan_id,
            "installment": installment.number,
            "attempt": attempt.number,
            "amount": str(attempt.amount),
            "card": attempt.card.masked_number if attempt.card else "",
            "failure_code": attempt.failure_code,
            "next_attempt_at": installment.next_attempt_at.isoformat() if installment.next_attempt_at else "",
        },
    )
    return attempt


def _installment_paid(installment: Installment, attempt: DebitAttempt) -> None:
    installment.paid_amount += attempt.amount
    installment.status = Installment.Status.PAID
    installment.next_attempt_at = None
    installment.soft_failures = 0
    installment._change_reason = f"collected by debit attempt {attempt.number}"
    installment.save()
    loan = installment.loan
    unpaid = loan.installments.exclude(status=Installment.Status.PAID)
    if not unpaid.exists():
        _loan_status_set(loan, Loan.Status.PAID_OFF, "paid off")
    elif loan.status == Loan.Status.OVERDUE and not unpaid.filter(status=Installment.Status.OVERDUE).exists():
        _loan_status_set(loan, Loan.Status.ACTIVE, "overdue installments collected")


def _installment_unpaid(installment: Installment, attempt: DebitAttempt, *, soft: bool, day: date) -> None:
    delays = settings.AUTODEBIT_RETRY_DAYS
    retry = soft and installment.soft_failures < len(delays)
    if retry:
        wait = timedelta(days=delays[installment.soft_failures])
        installment.next_attempt_at = collection_start(day + wait)
        installment.soft_failures += 1
    else:
        installment.next_attempt_at = None
    installment.status = Installment.Status.OVERDUE
    installment._change_reason = f"debit attempt {attempt.number} failed: {attempt.failure_code}"
    installment.save()
    if installment.loan.status == Loan.Status.ACTIVE:
        _loan_status_set(installment.loan, Loan.Status.OVERDUE, "an installment was not collected")
    _tell_borrower_debit_failed(installment, attempt, retry=retry)


def _loan_status_set(loan: Loan, status: str, reason: str) -> None:
    loan.status = status
    loan._change_reason = reason
    loan.save(update_fields=["status"])


def _tell_borrower_debit_failed(installment: Installment, attempt: DebitAttempt, *, retry: bool) -> None:
    borrower = installment.loan.borrower
    params = {
        "loan": installment.loan_id,
        "number": installment.number,
        "amount": str(attempt.amount),
        "card": str(attempt.card) if attempt.card else "",
    }
    if retry:
        params["retry_on"] = timezone.localdate(installment.next_attempt_at).isoformat()
        kind, link = "debit_failed_retry", f"/loans/{installment.loan_id}/"
    else:
        kind, link = "debit_failed_stopped", "/cards/"
    notification_create(user=borrower, kind=kind, params=params, link=link)
    sms_queue(to=borrower.phone, template=kind, context=params, language=borrower.language)


def installment_collect(
    *, installment_id: int, day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE
) -> DebitAttempt | None:
    """Collect one installment if it is due by ``day``: open an attempt, ask the bank, settle.

    Audited as the system job "autodebit", whoever started the run.
    """
    with system_job("autodebit"):
        opened = debit_attempt_open(installment_id=installment_id, day=day, trigger=trigger)
        attempt = opened.attempt
        if attempt is None or attempt.status != DebitAttempt.Status.PENDING:
            return attempt
        result = bank_outcome(attempt, ask_bank=opened.ask_bank)
        if result is None:
            return attempt  # the bank does not answer; a later run asks again
        return debit_attempt_settle(attempt_id=attempt.pk, result=result, day=day)


def _to_collect(day: date) -> Q:
    """Installments a run for ``day`` visits: their next debit time has come (paid and stopped ones
    have none), or a debit of theirs is pending long enough to be settled by asking the bank."""
    pending = DebitAttempt.objects.filter(status=DebitAttempt.Status.PENDING)
    in_flight = pending.filter(created_at__lt=_in_flight_since())
    return Q(next_attempt_at__lt=collectable_before(day)) | Q(pk__in=in_flight.values("installment_id"))


def due_installments(day: date):
    return Installment.objects.filter(_to_collect(day), loan__status__in=Loan.BEING_REPAID)


def loan_collect(*, loan_id: int, day: date) -> list[DebitAttempt]:
    """Collect a loan's installments due by ``day`` in order; stop at the first that is not paid."""
    ids = due_installments(day).filter(loan_id=loan_id).order_by("number").values_list("pk", flat=True)
    attempts = []
    for installment_id in ids:
        attempt = installment_collect(installment_id=installment_id, day=day)
        if attempt is not None:
            attempts.append(attempt)
            if attempt.status != DebitAttempt.Status.SUCCEEDED:
                break
    return attempts


def loans_to_collect(day: date):
    """Ids of the loans a run for ``day`` visits, in order (the run fans out one task per loan)."""
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
    installment_collect(
        installment_id=installment_id, day=timezone.localdate(), trigger=DebitAttempt.Trigger.OFFICER
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
