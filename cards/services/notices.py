"""The bank's notices (sandboxes/bank/PROTOCOL.md section 7): stored once, then applied.

``bank_notice_store`` runs in the notices endpoint's request: it keeps the notice by its id (a
repeat changes nothing) and queues its application through the outbox; the endpoint answers the
bank only after that commits. The task then calls ``bank_notice_apply``:

- ``agreement.ended`` / ``card.closed``: our active mandate with that agreement number is revoked
  at once (the card stays bound; binding it again renews the mandate) and the borrower is told.
- ``debit.result``: a pending attempt with that order number is settled through the collection's
  own ``debit_attempts_settle``; one settled the same way leaves the notice applied with no
  change; one settled otherwise makes the notice a conflict and opens a reconciliation break
  (never an overwrite). A notice whose
  attempt we do not have (yet) stays ``received``: the beat task ``apply_waiting_bank_notices``
  applies it again until the attempt appears.

Replays: the endpoint refuses a nonce seen in the last 10 minutes (the shared cache), and
whatever gets past that is a repeat of a notice id already stored, which changes nothing.
"""

import re
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.notifications import card_param
from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.services import record
from cards.gateways.base import DebitResult
from cards.models import BankNotice, Mandate
from lending.crypto import decrypt, encrypt
from lending.errors import DomainError
from lending.models import DebitAttempt
from lending.outbox import outbox_enqueue

ORDER_NO = re.compile(r"[A-Za-z0-9._:-]{1,64}")
DEBIT_STATUSES = {"succeeded", "failed", "processing"}


class NoticeMalformed(DomainError):
    """A signed notice whose data is not what the protocol says its kind carries."""

    code = "malformed"


def _text(data: dict, name: str, *, limit: int = 64, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise NoticeMalformed(f"{name} is missing or not a short text")
    if not value.isprintable():  # a NUL cannot even be stored
        raise NoticeMalformed(f"{name} holds control characters")
    return value


def _payload(kind: str, data: dict) -> tuple[dict, str]:
    """The fields of the notice kept for ``kind`` (anything else the bank sent is dropped), and
    its agreement number ("" for a debit result)."""
    if kind == BankNotice.Kind.DEBIT_RESULT:
        order_no, status, amount = _text(data, "order_no"), data.get("status"), data.get("amount_fen")
        if not ORDER_NO.fullmatch(order_no) or status not in DEBIT_STATUSES:
            raise NoticeMalformed("bad order number or status")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= 10**10:
            raise NoticeMalformed("bad amount")
        if not isinstance(data.get("retryable", False), bool):
            raise NoticeMalformed("bad retryable")
        payload = {
            "order_no": order_no,
            "status": status,
            "amount_fen": amount,
            "bank_ref": _text(data, "bank_ref", required=False),
            "failure_code": _text(data, "failure_code", limit=32, required=False),
            "retryable": data.get("retryable", False),
            "processed_at": _text(data, "processed_at", limit=32, required=False),
            "settle_date": _text(data, "settle_date", limit=10, required=False),
        }
        return payload, ""
    agreement_no = _text(data, "agreement_no")
    if kind == BankNotice.Kind.AGREEMENT_ENDED:
        payload = {
            "ended_at": _text(data, "ended_at", limit=32, required=False),
            "ended_by": _text(data, "ended_by", limit=16, required=False),
        }
    else:
        last4 = _text(data, "card_last4", limit=4, required=False)
        if last4 and not (len(last4) == 4 and last4.isdigit()):
            raise NoticeMalformed("bad card_last4")
        payload = {"card_last4": last4, "closed_at": _text(data, "closed_at", limit=32, required=False)}
    return payload, agreement_no


@transaction.atomic
def bank_notice_store(*, notice: dict) -> tuple[BankNotice, bool]:
    """Keep a verified notice (``bank_protocol.notice_verify``'s answer) once by its id and queue
    its application. Returns the row and whether it is new; a repeat changes nothing."""
    from cards.tasks import apply_bank_notice

    _text(notice, "notice_id")
    payload, agreement_no = _payload(notice["type"], notice["data"])
    payload["created_at"] = _text(notice, "created_at", limit=32, required=False)
    row, created = BankNotice.objects.get_or_create(
        notice_id=notice["notice_id"],
        defaults={
            "kind": notice["type"],
            "payload": payload,
            "agreement_encrypted": encrypt(agreement_no) if agreement_no else "",
        },
    )
    if created:
        record(
            action=Action.BANK_NOTICE_RECEIVED,
            actor=None,
            subject=row,
            data={"notice": row.notice_id, "kind": row.kind, **_evidence(row)},
        )
        outbox_enqueue(task=apply_bank_notice, kwargs={"notice_id": row.pk})
    return row, created


def _evidence(notice: BankNotice) -> dict:
    """What an audit event says of a notice: the order number and amount of a debit result."""
    if notice.kind == BankNotice.Kind.DEBIT_RESULT:
        return {key: notice.payload[key] for key in ("order_no", "status", "amount_fen", "failure_code")}
    return {}


def bank_notice_apply(*, notice_id: int) -> str:
    """Apply a stored notice by its kind; returns its status afterwards."""
    kind = BankNotice.objects.values_list("kind", flat=True).get(pk=notice_id)
    if kind == BankNotice.Kind.DEBIT_RESULT:
        return bank_notice_debit_apply(notice_id=notice_id)
    return bank_notice_agreement_end(notice_id=notice_id)


def _locked_received(notice_id: int) -> BankNotice | None:
    notice = BankNotice.objects.select_for_update().get(pk=notice_id)
    return notice if notice.status == BankNotice.Status.RECEIVED else None


def _close(notice: BankNotice, status: str, note: str = "") -> str:
    notice.status, notice.note, notice.applied_at = status, note[:200], timezone.now()
    notice.save(update_fields=["status", "note", "applied_at"])
    return status


def _ignore(notice: BankNotice, note: str) -> str:
    record(
        action=Action.BANK_NOTICE_IGNORED,
        actor=None,
        subject=notice,
        data={"notice": notice.notice_id, "kind": notice.kind, "note": note, **_evidence(notice)},
    )
    return _close(notice, BankNotice.Status.IGNORED, note)


def _active_mandate(agreement_no: str) -> Mandate | None:
    """Our active mandate under this agreement number (found by the token's fingerprint)."""
    return (
        Mandate.objects.select_for_update()
        .select_related("card__user")
        .filter(status=Mandate.Status.ACTIVE, token_fingerprint=Mandate.fingerprint_of(agreement_no))
        .first()
    )


@transaction.atomic
def bank_notice_agreement_end(*, notice_id: int) -> str:
    """The bank ended an agreement (its cardholder at the counter, the bank, or a closed card):
    our mandate under it is revoked now, so collection skips the card and the card page and the
    pre-due reminder ask for a new mandate; the borrower is told by text and in the inbox."""
    notice = _locked_received(notice_id)
    if notice is None:
        return BankNotice.objects.get(pk=notice_id).status
    mandate = _active_mandate(decrypt(notice.agreement_encrypted))
    if mandate is None or mandate.status != Mandate.Status.ACTIVE:
        return _ignore(notice, "no active mandate under this agreement number")
    now, card = timezone.now(), mandate.card
    ended_by = "card closed" if notice.kind == BankNotice.Kind.CARD_CLOSED else "agreement ended"
    mandate.status, mandate.revoked_at, mandate.revoked_at_bank = Mandate.Status.REVOKED, now, now
    mandate._change_reason = f"ended by the bank ({ended_by}, notice {notice.notice_id})"
    mandate.save()
    if card.is_repayment:  # nothing to debit through until a card with a mandate repays again
        from lending.services.collection import collection_stop

        collection_stop(borrower=card.user, reason=f"repayment card's mandate ended by the bank ({ended_by})")
    record(
        action=Action.MANDATE_ENDED_BY_BANK,
        actor=None,
        subject=mandate,
        data={
            "card": card.masked_number,
            "notice": notice.notice_id,
            "kind": notice.kind,
            "ended_by": notice.payload.get("ended_by", ""),
        },
    )
    kind = "card_closed_at_bank" if notice.kind == BankNotice.Kind.CARD_CLOSED else "mandate_ended_at_bank"
    user = card.user
    notification_create(user=user, kind=kind, params={"card": card_param(card)}, link="/cards/")
    sms_queue(to=user.phone, template=kind, context={"last4": card.last4}, language=user.language)
    return _close(notice, BankNotice.Status.APPLIED)


def _result(payload: dict) -> DebitResult:
    succeeded = payload["status"] == "succeeded"
    return DebitResult(
        succeeded=succeeded,
        reference=payload["bank_ref"],
        failure_code="" if succeeded else payload["failure_code"],
        soft=payload["retryable"],
    )


def _agrees(attempt: DebitAttempt, payload: dict) -> bool:
    """Whether a settled attempt says what the bank's result says: both collected (the same
    amount), or both not."""
    if attempt.status == DebitAttempt.Status.SUCCEEDED:
        return payload["status"] == "succeeded" and attempt.amount * 100 == payload["amount_fen"]
    return payload["status"] == "failed"


@transaction.atomic
def bank_notice_debit_apply(*, notice_id: int) -> str:
    """A debit result from the bank: settle its pending attempt once through the collection's
    settle path; a result contradicting a settled attempt is a conflict, never an overwrite; an
    attempt we do not have yet leaves the notice waiting (``received``)."""
    from lending.services.collection import debit_attempts_settle

    notice = _locked_received(notice_id)
    if notice is None:
        return BankNotice.objects.get(pk=notice_id).status
    payload = notice.payload
    if payload["status"] == "processing":
        return _ignore(notice, "the bank is still processing the debit; its result comes later")
    key = payload["order_no"]
    attempt = DebitAttempt.objects.filter(idempotency_key=key).first()
    if attempt is None:
        return notice.status  # waiting for the attempt (apply_waiting_bank_notices)
    if attempt.status == DebitAttempt.Status.PENDING:
        if attempt.amount * 100 != Decimal(payload["amount_fen"]):
            return _conflict(notice, attempt, "the bank's amount differs from the attempt's")
        day = timezone.localdate(attempt.created_at)
        if debit_attempts_settle(outcomes={key: _result(payload)}, day=day):
            return _close(notice, BankNotice.Status.APPLIED, "settled the pending attempt")
        attempt.refresh_from_db()  # settled meanwhile by the collection run: compare below
    if _agrees(attempt, payload):
        return _close(notice, BankNotice.Status.APPLIED, "the attempt was already settled the same way")
    return _conflict(notice, attempt, "the attempt was settled otherwise")


def _conflict(notice: BankNotice, attempt: DebitAttempt, note: str) -> str:
    """Never an overwrite: the notice is kept as a conflict and a reconciliation break opened."""
    from cards.services.reconciliation import reconciliation_break_notice

    difference = reconciliation_break_notice(notice=notice, attempt=attempt, note=note)
    record(
        action=Action.BANK_NOTICE_CONFLICT,
        actor=None,
        subject=attempt,
        data={
            "notice": notice.notice_id,
            "note": note,
            "break": difference.pk,
            "ours": attempt.status,
            "amount": str(attempt.amount),
            **_evidence(notice),
        },
    )
    return _close(notice, BankNotice.Status.CONFLICT, note)


def bank_notices_waiting(*, limit: int = 1000) -> list[int]:
    """Notices not applied yet, oldest first: debit results waiting for their attempt (and any
    whose task was lost)."""
    waiting = BankNotice.objects.filter(status=BankNotice.Status.RECEIVED).order_by("received_at")
    return list(waiting.values_list("pk", flat=True)[:limit])
