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

An installment becomes overdue only once its due day's collection window has closed unpaid
(``installments_overdue_mark``, beat at ``AUTODEBIT_WINDOW_CLOSES_AT``, and again before each
morning run in case that was missed): a debit that fails on the due day leaves it due.

A worker that dies between 1 and 3 leaves its attempts pending; once
``AUTODEBIT_IN_FLIGHT_MINUTES`` have passed since they were sent, the next run settles them by
querying the bank. Only the bank's answer fails an attempt: one the bank says it never received
(the worker died before sending it, or the request was lost) is sent again under the same key
(``debit_attempts_resend``) until the day's collection window closes
(``AUTODEBIT_WINDOW_CLOSES_AT``); only then does it fail with "no answer", and only then is
the borrower told. The follow-up run (beat, every ``AUTODEBIT_FOLLOW_UP_MINUTES`` after the
morning run until the window closes) collects what a dead worker held before opening its
attempts. The database holds at most one pending and one successful attempt per installment
(constraints), and the bank debits a key once: re-runs, duplicate deliveries, resends and two
workers collect once.

The three steps work on plain values and write with set-based statements (``lending.db``), not
model instances: a morning run collects every installment due that day (bench/autodebit.py).
"""

from collections import defaultdict, namedtuple
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.context import system_job
from audit.services import SubjectRef, record, record_many
from cards.gateways import get_gateway
from cards.gateways.base import DebitRequest, DebitResult, GatewayUnavailable
from lending.crypto import decrypt
from lending.db import history_rows_create, insert_rows, update_rows
from lending.errors import DomainError
from lending.models import DebitAttempt, Installment, Loan
from lending.money import grouped
from lending.pii import mask_card, redact

NO_ANSWER = "no_answer"  # the bank never received the debit by the end of the window: soft
NO_REPAYMENT_CARD = "no_repayment_card"  # nothing to debit: hard
MANDATE_REVOKED = "mandate_revoked"  # the bank ended the mandate: hard


class RetryRefused(DomainError):
    code = "retry_refused"


def _at(day: date, hour_minute: tuple[int, int]) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(*hour_minute)))


def collection_start(day: date) -> datetime:
    """Midnight of ``day`` in TIME_ZONE: when an installment due that day becomes collectable."""
    return _at(day, (0, 0))


def collectable_before(day: date) -> datetime:
    """A run for ``day`` collects what is due up to the end of that day."""
    return collection_start(day + timedelta(days=1))


def window_closes(day: date) -> datetime:
    """The end of ``day``'s collection window: until then a debit the bank never received is
    sent again; from then on it fails ("no answer")."""
    return _at(day, settings.AUTODEBIT_WINDOW_CLOSES_AT)


def follow_up_day(now: datetime) -> date | None:
    """The day a follow-up run at ``now`` collects: from ``AUTODEBIT_FOLLOW_UP_MINUTES`` after
    the morning run until the window closes; None outside those hours."""
    day = timezone.localdate(now)
    opens = _at(day, settings.AUTODEBIT_AT) + timedelta(minutes=settings.AUTODEBIT_FOLLOW_UP_MINUTES)
    return day if opens <= now < window_closes(day) else None


def _due_before(day: date, trigger: str) -> datetime:
    """A run for ``day`` collects what is due by the end of the day; its follow-up only what the
    morning run should have collected (not, say, a collection resumed at noon)."""
    if trigger == DebitAttempt.Trigger.FOLLOW_UP:
        return _at(day, settings.AUTODEBIT_AT)
    return collectable_before(day)


def _in_flight_since() -> datetime:
    """A pending attempt last sent before this is not in flight any more: its worker is gone."""
    return timezone.now() - timedelta(minutes=settings.AUTODEBIT_IN_FLIGHT_MINUTES)


@dataclass(frozen=True)
class Debit:
    """An open attempt on its way to the bank, named by its idempotency key."""

    key: str
    amount: Decimal
    token_encrypted: str  # the mandate's; "" when there was no usable mandate
    ask_bank: bool  # False: settle by querying the key (a stale pending attempt), or without the bank
    opened_at: datetime  # its collection window is that day's


_OPEN_FIELDS = [
    "installment_id",
    "card_id",
    "mandate_id",
    "number",
    "amount",
    "idempotency_key",
    "status",
    "trigger",
    "created_at",
]


def debit_attempts_open(
    *, installment_ids, day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE
) -> list[Debit]:
    """Start one debit of each installment that is due (or, for an officer, unpaid); leave out the
    paid, the not yet due, and those with a debit in flight. Stale pending attempts come back to
    be settled by a query."""
    with transaction.atomic():
        installments = list(
            Installment.objects.select_for_update(of=("self",))
            .filter(pk__in=list(installment_ids))
            .order_by("pk")
            .annotate(left=F("principal_due") + F("interest_due") - F("paid_amount"))
            .values_list(*_DUE_COLUMNS, named=True)
        )
        ids = [installment.pk for installment in installments]
        pending = _pending_attempts(ids)
        last = _last_attempt_numbers(ids)
        mandates = _debit_mandates({installment.loan__borrower_id for installment in installments})
        stale_since, due_before, now = _in_flight_since(), _due_before(day, trigger), timezone.now()
        opened, rows, started = [], [], []
        for installment in installments:
            if installment.pk in pending:
                attempt = pending[installment.pk]
                if (attempt.resent_at or attempt.created_at) < stale_since:
                    key, token = attempt.idempotency_key, attempt.token or ""
                    opened.append(Debit(key, attempt.amount, token, False, attempt.created_at))
            elif _collectable(installment, due_before, trigger):
                mandate = mandates.get(installment.loan__borrower_id, _NO_MANDATE)
                number = last.get(installment.pk, 0) + 1
                key = DebitAttempt.key_for(installment.pk, number)
                opened.append(Debit(key, installment.left, mandate.token_encrypted, bool(mandate.pk), now))
                row = (installment.pk, mandate.card_id, mandate.pk, number, installment.left, key)
                rows.append(row + (DebitAttempt.Status.PENDING, trigger, now))
                started.append(_started_entry(installment, number, key, mandate))
        insert_rows(DebitAttempt, _OPEN_FIELDS, rows)
        _debits_started_record(started)
    return opened


def _attempt_data(*, loan: int, installment: int, attempt: int, amount: Decimal, card_last4) -> dict:
    """What every audit event about a debit attempt says of it (``card_last4`` None: no card)."""
    return {
        "loan": loan,
        "installment": installment,
        "attempt": attempt,
        "amount": str(amount),
        "card": mask_card(card_last4) if card_last4 is not None else "",
    }


def _started_entry(installment, number: int, key: str, mandate) -> tuple[str, dict]:
    data = _attempt_data(
        loan=installment.loan_id,
        installment=installment.number,
        attempt=number,
        amount=installment.left,
        card_last4=mandate.card__last4 if mandate.pk else None,
    )
    return key, data


def _debits_started_record(started: list[tuple[str, dict]]) -> None:
    """One audit event per attempt opened, about the attempt (its id read back by key: COPY
    returns none), before anything is asked of the bank."""
    if not started:
        return
    keys = [key for key, _data in started]
    ids = dict(DebitAttempt.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "pk"))
    attempt = DebitAttempt._meta.label_lower
    entries = [
        {"action": Action.DEBIT_STARTED, "subject": SubjectRef(attempt, str(ids[key])), "data": data}
        for key, data in started
    ]
    record_many(actor=None, entries=entries)


_DUE_COLUMNS = ("pk", "loan_id", "number", "loan__borrower_id", "status", "next_attempt_at", "left")


def _pending_attempts(installment_ids: list[int]) -> dict:
    """The installments' debits in flight, by installment id."""
    rows = DebitAttempt.objects.filter(installment_id__in=installment_ids, status=DebitAttempt.Status.PENDING)
    rows = rows.annotate(token=F("mandate__token_encrypted"))
    fields = ("installment_id", "idempotency_key", "amount", "created_at", "resent_at", "token")
    return {row.installment_id: row for row in rows.values_list(*fields, named=True)}


def _last_attempt_numbers(installment_ids: list[int]) -> dict[int, int]:
    attempts = DebitAttempt.objects.filter(installment_id__in=installment_ids)
    return dict(
        attempts.values("installment_id").annotate(n=Max("number")).values_list("installment_id", "n")
    )


def _debit_mandates(borrower_ids) -> dict:
    """Each borrower's mandate loans are debited through (``Mandate.objects.debitable``), with
    its card, by borrower id, in one query."""
    from cards.models import Mandate

    rows = Mandate.objects.debitable().filter(card__user_id__in=borrower_ids)
    return {row.card__user_id: row for row in rows.values_list(*_MANDATE_COLUMNS, named=True)}


_MANDATE_COLUMNS = ("pk", "card__user_id", "card_id", "card__last4", "token_encrypted")
_NO_MANDATE = namedtuple("NoMandate", _MANDATE_COLUMNS)(None, None, None, "", "")


def _collectable(installment, due_before: datetime, trigger: str) -> bool:
    if installment.status == Installment.Status.PAID or installment.next_attempt_at is None:
        return False
    return trigger == DebitAttempt.Trigger.OFFICER or installment.next_attempt_at < due_before


def bank_outcomes(opened: list[Debit]) -> dict[str, DebitResult | None]:
    """What the bank did with each attempt's key: debited (once), or queried. A key the bank
    says it never received is sent again under the same key while its window is open, and fails
    with "no answer" once it has closed. None: no answer yet (the attempt stays pending)."""
    gateway = get_gateway()
    outcomes = {
        d.key: DebitResult(False, failure_code=NO_REPAYMENT_CARD) for d in opened if not d.token_encrypted
    }
    outcomes.update(_debited(gateway, [d for d in opened if d.ask_bank]))
    not_received = []
    for debit in opened:
        if outcomes.get(debit.key) is None:
            try:
                outcomes[debit.key] = gateway.query_debit(idempotency_key=debit.key)
            except GatewayUnavailable:
                continue  # no answer either way: it waits for the next run
            if outcomes[debit.key] is None:
                not_received.append(debit)
    now, resend = timezone.now(), []
    for debit in not_received:
        if now < window_closes(timezone.localdate(debit.opened_at)):
            resend.append(debit)
        else:
            outcomes[debit.key] = DebitResult(False, failure_code=NO_ANSWER, soft=True)
    if resend:
        still_pending = debit_attempts_resend(keys=[debit.key for debit in resend])
        outcomes.update(_debited(gateway, [debit for debit in resend if debit.key in still_pending]))
    return outcomes


def _debited(gateway, debits: list[Debit]) -> dict[str, DebitResult | None]:
    """One batch debit exchange; None for a key without an answer (query it, never debit it blindly)."""
    if not debits:
        return {}
    try:
        return gateway.debit_many([DebitRequest(decrypt(d.token_encrypted), d.amount, d.key) for d in debits])
    except GatewayUnavailable:  # the whole exchange timed out: each key is queried
        return {}


@transaction.atomic
def debit_attempts_resend(*, keys: list[str]) -> set[str]:
    """Attempts the bank says it never received go to it again under the same keys: each is
    counted as sent again and audited ("not received by the bank, sent again") before it is
    sent. Returns the keys still pending (another run may have settled some meanwhile)."""
    attempts = list(
        DebitAttempt.objects.select_for_update(of=("self",))
        .filter(idempotency_key__in=keys, status=DebitAttempt.Status.PENDING)
        .order_by("pk")
        .values_list(*_RESEND_COLUMNS, named=True)
    )
    now = timezone.now()
    update_rows(
        DebitAttempt, ["resent_count", "resent_at"], [(a.pk, a.resent_count + 1, now) for a in attempts]
    )
    label = DebitAttempt._meta.label_lower
    entries = [
        {
            "action": Action.DEBIT_RESENT,
            "subject": SubjectRef(label, str(a.pk)),
            "data": {
                **_attempt_data(
                    loan=a.installment__loan_id,
                    installment=a.installment__number,
                    attempt=a.number,
                    amount=a.amount,
                    card_last4=a.card__last4 if a.card_id else None,
                ),
                "sent_again": a.resent_count + 1,
            },
        }
        for a in attempts
    ]
    if entries:
        record_many(actor=None, entries=entries)
    return {a.idempotency_key for a in attempts}


_RESEND_COLUMNS = (
    "pk",
    "idempotency_key",
    "number",
    "amount",
    "resent_count",
    "card_id",
    "card__last4",
    "installment__loan_id",
    "installment__number",
)


@dataclass
class _Settling:
    """One pending attempt (a row of ``_SETTLE_COLUMNS``) and its installment while the bank's
    answer is recorded."""

    attempt: tuple
    result: DebitResult
    loan_id: int
    installment_number: int
    due_date: date
    paid_amount: Decimal
    soft_failures: int
    status: str = ""
    next_attempt_at: datetime | None = None
    reason: str = ""
    # The installment as it was: a borrower's failed payment leaves it so.
    was: tuple[str, datetime | None] = ("", None)


@transaction.atomic
def debit_attempts_settle(*, outcomes: dict[str, DebitResult], day: date) -> list[str]:
    """Record the bank's answers once; settling an attempt again changes nothing. Returns the
    keys settled now."""
    attempts = DebitAttempt.objects.filter(idempotency_key__in=list(outcomes))
    installments = {
        row[0]: row
        for row in Installment.objects.select_for_update(of=("self",))
        .filter(pk__in=list(attempts.values_list("installment_id", flat=True)))
        .order_by("pk")
        .values_list(
            "pk", "loan_id", "number", "due_date", "paid_amount", "soft_failures", "status", "next_attempt_at"
        )
    }
    locked = (
        attempts.select_for_update(of=("self",))
        .filter(status=DebitAttempt.Status.PENDING)
        .order_by("pk")
        .values_list(*_SETTLE_COLUMNS, named=True)
    )
    settling = []
    for attempt in locked:
        _, loan_id, number, due_date, paid_amount, soft_failures, *was = installments[attempt.installment_id]
        entry = _Settling(
            attempt,
            outcomes[attempt.idempotency_key],
            loan_id,
            number,
            due_date,
            paid_amount,
            soft_failures,
            was=tuple(was),
        )
        _installment_outcome(entry, day)
        settling.append(entry)
    if settling:
        _settled_write(settling)
    return [entry.attempt.idempotency_key for entry in settling]


_SETTLE_COLUMNS = (
    "pk",
    "idempotency_key",
    "installment_id",
    "number",
    "amount",
    "card_id",
    "card__last4",
    "mandate_id",
    "trigger",
)


def _installment_outcome(entry: _Settling, day: date) -> None:
    """What the answer does to the installment: paid, a retry days later, or stopped. A failure
    on the due day while its collection window is open leaves the installment due (it becomes
    overdue at the close, ``installments_overdue_mark``); a later one finds it overdue."""
    result, number = entry.result, entry.attempt.number
    by_borrower = entry.attempt.trigger in DebitAttempt.BY_BORROWER
    if result.succeeded:
        entry.paid_amount += entry.attempt.amount
        entry.status, entry.soft_failures = Installment.Status.PAID, 0
        entry.reason = _PAID_REASONS.get(entry.attempt.trigger, "collected by debit attempt {number}")
        entry.reason = entry.reason.format(number=number)
        return
    if by_borrower:  # the borrower saw it fail on the page: the collection goes on as planned
        entry.status, entry.next_attempt_at = entry.was
        entry.reason = f"the borrower's payment (debit attempt {number}) failed: {result.failure_code}"
        return
    delays = settings.AUTODEBIT_RETRY_DAYS
    if result.soft and entry.soft_failures < len(delays):
        entry.next_attempt_at = collection_start(day + timedelta(days=delays[entry.soft_failures]))
        entry.soft_failures += 1
    still_due = entry.due_date >= day and timezone.now() < window_closes(day)
    entry.status = Installment.Status.DUE if still_due else Installment.Status.OVERDUE
    entry.reason = f"debit attempt {number} failed: {result.failure_code}"


_PAID_REASONS = {
    DebitAttempt.Trigger.BORROWER: "paid by the borrower (debit attempt {number})",
    DebitAttempt.Trigger.PAYOFF: "paid off early by the borrower (debit attempt {number})",
}


def _settled_write(settling: list[_Settling]) -> None:
    now = timezone.now()
    update_rows(
        DebitAttempt,
        ["status", "gateway_reference", "failure_code", "settled_at"],
        [(e.attempt.pk, _attempt_status(e), e.result.reference, _failure_code(e), now) for e in settling],
    )
    update_rows(
        Installment,
        ["paid_amount", "status", "next_attempt_at", "soft_failures"],
        [
            (e.attempt.installment_id, e.paid_amount, e.status, e.next_attempt_at, e.soft_failures)
            for e in settling
        ],
    )
    by_reason = defaultdict(list)
    for entry in settling:
        by_reason[entry.reason].append(entry.attempt.installment_id)
    for reason, installment_ids in by_reason.items():
        history_rows_create(Installment.objects.filter(pk__in=installment_ids), reason=reason)
    _loan_statuses_update({entry.loan_id for entry in settling})
    _mandates_ended_by_bank(
        [e.attempt.mandate_id for e in settling if _failure_code(e) == MANDATE_REVOKED], now
    )
    record_many(actor=None, entries=[_audit_entry(entry) for entry in settling])
    failed = [
        entry
        for entry in settling
        if not entry.result.succeeded and entry.attempt.trigger not in DebitAttempt.BY_BORROWER
    ]
    if failed:
        _tell_borrowers_debits_failed(failed)


def _attempt_status(entry: _Settling) -> str:
    return DebitAttempt.Status.SUCCEEDED if entry.result.succeeded else DebitAttempt.Status.FAILED


def _failure_code(entry: _Settling) -> str:
    return "" if entry.result.succeeded else entry.result.failure_code


def _mandates_ended_by_bank(mandate_ids: list[int], now) -> None:
    """The bank says a mandate is over: ours says so too, so the card page, the reminders and
    the next run all see the card cannot be debited."""
    from cards.models import Mandate

    ended = list(
        Mandate.objects.select_for_update()
        .filter(pk__in=mandate_ids, status=Mandate.Status.ACTIVE)
        .values_list("pk", flat=True)
    )
    update_rows(
        Mandate, ["status", "revoked_at", "revoked_at_bank"], [(pk, "revoked", now, now) for pk in ended]
    )
    history_rows_create(
        Mandate.objects.filter(pk__in=ended), reason="revoked by the bank (a debit was refused)"
    )


def _loan_statuses_update(loan_ids: set[int]) -> None:
    """Paid off when nothing is left unpaid; overdue while an installment is; active otherwise."""
    unpaid = defaultdict(set)
    rows = Installment.objects.filter(loan_id__in=loan_ids).exclude(status=Installment.Status.PAID)
    for loan_id, status in rows.values_list("loan_id", "status"):
        unpaid[loan_id].add(status)
    changes = defaultdict(list)
    loans = Loan.objects.filter(pk__in=loan_ids, status__in=Loan.BEING_REPAID)
    for loan_id, current in loans.values_list("pk", "status"):
        if not unpaid[loan_id]:
            status, reason = Loan.Status.PAID_OFF, "paid off"
        elif Installment.Status.OVERDUE in unpaid[loan_id]:
            status, reason = Loan.Status.OVERDUE, "an installment was not collected"
        else:
            status, reason = Loan.Status.ACTIVE, "overdue installments collected"
        if current != status:
            changes[status, reason].append(loan_id)
    for (status, reason), ids in changes.items():
        Loan.objects.filter(pk__in=ids, status__in=Loan.BEING_REPAID).update(status=status)
        history_rows_create(Loan.objects.filter(pk__in=ids), reason=reason)


def _audit_entry(entry: _Settling) -> dict:
    attempt = entry.attempt
    return {
        "action": Action.DEBIT_SUCCEEDED if entry.result.succeeded else Action.DEBIT_FAILED,
        "subject": SubjectRef(DebitAttempt._meta.label_lower, str(attempt.pk)),
        "data": {
            **_attempt_data(
                loan=entry.loan_id,
                installment=entry.installment_number,
                attempt=attempt.number,
                amount=attempt.amount,
                card_last4=attempt.card__last4 if attempt.card_id else None,
            ),
            "failure_code": _failure_code(entry),
            "next_attempt_at": entry.next_attempt_at.isoformat() if entry.next_attempt_at else "",
            **({"trigger": attempt.trigger} if attempt.trigger in DebitAttempt.BY_BORROWER else {}),
        },
    }


def _tell_borrowers_debits_failed(failed: list[_Settling]) -> None:
    """A text and a notice for each failed debit: when it is tried again, or to choose a card."""
    from accounts.models import User
    from accounts.notifications import card_param
    from cards.models import Card

    borrowers = dict(Loan.objects.filter(pk__in={e.loan_id for e in failed}).values_list("pk", "borrower_id"))
    users = User.objects.in_bulk(set(borrowers.values()))
    cards = Card.objects.in_bulk({e.attempt.card_id for e in failed if e.attempt.card_id})
    for entry in failed:
        borrower, card = users[borrowers[entry.loan_id]], cards.get(entry.attempt.card_id)
        params = {
            "loan": entry.loan_id,
            "number": entry.installment_number,
            "amount": str(entry.attempt.amount),
            "card": card_param(card) if card else "",
        }
        # Both notices lead to the loan page, which leads with what is owed and "repay now".
        link = reverse("loan_detail", args=[entry.loan_id])
        if entry.next_attempt_at:
            params["retry_on"] = timezone.localdate(entry.next_attempt_at).isoformat()
            kind = "debit_failed_retry"
        else:
            kind = "debit_failed_stopped"
        notification_create(user=borrower, kind=kind, params=params, link=link)
        text = {**params, "amount": grouped(entry.attempt.amount), "card": str(card) if card else ""}
        text["url"] = settings.SITE_URL + link
        sms_queue(to=borrower.phone, template=kind, context=text, language=borrower.language)


def installments_collect(
    *, installment_ids, day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE
) -> list[DebitAttempt]:
    """Collect the installments due by ``day``: open attempts, one exchange with the bank, settle.

    Returns the attempts touched (still pending ones too), with their installments.
    Audited as the system job "autodebit".
    """
    installment_ids = list(installment_ids)
    if not installment_ids:
        return []
    with system_job("autodebit"):
        opened = debit_attempts_open(installment_ids=installment_ids, day=day, trigger=trigger)
        if not opened:
            return []
        outcomes = bank_outcomes(opened)
        answered = {key: result for key, result in outcomes.items() if result is not None}
        if answered:
            debit_attempts_settle(outcomes=answered, day=day)
    attempts = DebitAttempt.objects.select_related("installment").order_by("installment_id")
    return list(attempts.filter(idempotency_key__in=[debit.key for debit in opened]))


def _to_collect(day: date, trigger: str) -> Q:
    """Installments a run for ``day`` visits: their next debit time has come (paid and stopped ones
    have none), or a debit of theirs was sent long enough ago to be settled by asking the bank."""
    since = _in_flight_since()
    pending = DebitAttempt.objects.filter(status=DebitAttempt.Status.PENDING)
    in_flight = pending.filter(Q(resent_at__lt=since) | Q(resent_at__isnull=True, created_at__lt=since))
    return Q(next_attempt_at__lt=_due_before(day, trigger)) | Q(pk__in=in_flight.values("installment_id"))


def due_installments(day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE):
    return Installment.objects.filter(_to_collect(day, trigger), loan__status__in=Loan.BEING_REPAID)


def loans_collect(*, loan_ids, day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE) -> list[DebitAttempt]:
    """Collect the loans' installments due by ``day``, each loan's in order of number: a loan's
    next installment is tried only once the one before it is paid."""
    attempts, loan_ids = [], list(loan_ids)
    while loan_ids:
        due = due_installments(day, trigger).filter(loan_id__in=loan_ids).order_by("loan_id", "number")
        first_due = dict(reversed(list(due.values_list("loan_id", "pk"))))  # the lowest number per loan
        done = installments_collect(installment_ids=first_due.values(), day=day, trigger=trigger)
        attempts += done
        loan_ids = [a.installment.loan_id for a in done if a.status == DebitAttempt.Status.SUCCEEDED]
    return attempts


def loans_to_collect(day: date, trigger: str = DebitAttempt.Trigger.SCHEDULE):
    """Ids of the loans a run for ``day`` visits, in order (the run fans them out in chunks)."""
    due = due_installments(day, trigger)
    return due.order_by("loan_id").values_list("loan_id", flat=True).distinct()


def _closed_through(now: datetime) -> date:
    """The last day whose collection window has closed by ``now``."""
    today = timezone.localdate(now)
    return today if now >= window_closes(today) else today - timedelta(days=1)


def installments_overdue(day: date):
    """Installments still due whose due day, ``day`` at the latest, has a closed collection window:
    not collected in time (those with a debit awaiting the bank's answer are left out later)."""
    return Installment.objects.filter(
        status=Installment.Status.DUE,
        due_date__lte=min(day, _closed_through(timezone.now())),
        loan__status__in=Loan.BEING_REPAID,
    )


def installments_overdue_mark(*, day: date) -> int:
    """Mark overdue the installments due by ``day`` that were not collected by the close of their
    due day's window (nothing whose window is still open). One with a debit still waiting for the
    bank is left to that answer: its failure makes it overdue, its success pays it. Marking again
    changes nothing. Returns how many were marked. Audited as the system job "autodebit"."""
    with system_job("autodebit"), transaction.atomic():
        rows = list(
            installments_overdue(day)
            .select_for_update(of=("self",))
            .order_by("pk")
            .annotate(left=F("principal_due") + F("interest_due") - F("paid_amount"))
            .values_list("pk", "loan_id", "number", "due_date", "left", named=True)
        )
        pending = _pending_attempts([row.pk for row in rows])  # read after the locks: none opens now
        rows = [row for row in rows if row.pk not in pending]
        if not rows:
            return 0
        marked = Installment.objects.filter(pk__in=[row.pk for row in rows])
        marked.update(status=Installment.Status.OVERDUE)
        history_rows_create(marked, reason="not collected by the close of its due day")
        _loan_statuses_update({row.loan_id for row in rows})
        label = Installment._meta.label_lower
        entries = [
            {
                "action": Action.INSTALLMENT_OVERDUE,
                "subject": SubjectRef(label, str(row.pk)),
                "data": {
                    "loan": row.loan_id,
                    "installment": row.number,
                    "due_date": row.due_date.isoformat(),
                    "amount": str(row.left),
                },
            }
            for row in rows
        ]
        record_many(actor=None, entries=entries)
    return len(rows)


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
            data={"loan": installment.loan_id, "installment": installment.number, "note": redact(note)},
        )
    installments_collect(
        installment_ids=[installment_id], day=timezone.localdate(), trigger=DebitAttempt.Trigger.OFFICER
    )
    installment.refresh_from_db()
    return installment


def _unpaid(borrower):
    return Installment.objects.filter(
        loan__borrower=borrower,
        loan__status__in=Loan.BEING_REPAID,
        status__in=[Installment.Status.DUE, Installment.Status.OVERDUE],
    )


def collection_stop(*, borrower, reason: str) -> int:
    """The repayment card's mandate ended at the bank (its notice): no debit is tried until the
    borrower has a usable repayment card again (``collection_resume``), so none fails meanwhile.
    Runs in the caller's transaction, which records the event."""
    stopped = 0
    for installment in _unpaid(borrower).filter(next_attempt_at__isnull=False).select_for_update():
        installment.next_attempt_at = None
        installment._change_reason = reason
        installment.save()
        stopped += 1
    return stopped


def collection_resume(*, borrower) -> int:
    """A new repayment card: installments stopped for want of a usable card (overdue, or still
    due) are collected again from the next run, none before its due date."""
    now = timezone.now()
    resumed = 0
    for installment in _unpaid(borrower).filter(next_attempt_at__isnull=True).select_for_update():
        installment.next_attempt_at = max(now, collection_start(installment.due_date))
        installment.soft_failures = 0
        installment._change_reason = "repayment card changed"
        installment.save()
        resumed += 1
    return resumed
