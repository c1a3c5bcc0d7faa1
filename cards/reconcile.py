"""Matching the bank's statement files (sandboxes/bank/PROTOCOL.md section 6) with our records.

Memory stays flat whatever the file's size: lines are read from the checked file in chunks of
RECONCILIATION_CHUNK, each chunk's attempts (or mandates) looked up in one query, and what is
kept across chunks is only which of our records the file named, one bit per id (IdBits).

A debit line becomes a difference when:

============================== ==============================================================
kind                           the bank's line / our attempt under that order number
============================== ==============================================================
unknown_order                  we have no attempt with that order number (never sent)
bank_success_unknown_to_us     the bank collected; our attempt is still pending
status_differs                 both settled and they disagree (the bank collected, we failed
                               it; we collected, the bank failed it), or the bank failed a
                               debit we still have pending
amount_differs                 same outcome, other amount
our_success_missing_at_bank    see below
============================== ==============================================================

Which of our attempts belong to a settlement date: lines are matched by order number whatever
day we sent them. "Our success missing at the bank" looks among our attempts settled as
succeeded whose last send (``resent_at``, else ``created_at``) falls on the settlement date in
Beijing time: the bank processes a debit as it arrives, so its settlement date is the date we
sent it. A debit sent in the last RECONCILIATION_BOUNDARY_SECONDS of the date may be processed
after midnight (in the next date's file): such a candidate is asked about by order number, and
is no difference if the bank has it. (A resend is made the same day, so only attempts created
up to two days before the date are read; the created_at index bounds the query.)

Agreements: each agreement the bank lists as active at the end of the date should be one of our
mandates active then (found by the token's fingerprint), and each of our mandates active then
should be active at the bank. Mandates created or revoked within the boundary of midnight are
given the benefit of the doubt (the bank signs before we store, and ends after we revoke).
"""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Coalesce

from cards.gateways.base import BankGateway, GatewayError, StatementRefused
from cards.models import Mandate, ReconciliationBreak
from lending.models import DebitAttempt

BEIJING = ZoneInfo("Asia/Shanghai")  # settlement dates are the bank's (PROTOCOL.md section 1)
Kind = ReconciliationBreak.Kind
SUCCEEDED, FAILED, PENDING = (
    DebitAttempt.Status.SUCCEEDED,
    DebitAttempt.Status.FAILED,
    DebitAttempt.Status.PENDING,
)
RESEND_DAYS = 2


@dataclass
class Found:
    """A difference found, before it is written (``key``: the order number or the token's
    fingerprint)."""

    kind: str
    key: str
    order_no: str = ""
    attempt_id: int | None = None
    mandate_id: int | None = None
    our_amount: Decimal | None = None
    bank_amount: Decimal | None = None
    evidence: dict = field(default_factory=dict)


@dataclass
class Totals:
    lines: int = 0
    matched: int = 0
    matched_fen: int = 0
    agreements: int = 0
    found: int = 0


class IdBits:
    """A set of row ids as one bit each, up to the largest (1.25 MB per 10 million ids)."""

    def __init__(self):
        self.bits = bytearray()

    def add(self, pk: int) -> None:
        byte = pk >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits), 4096)))
        self.bits[byte] |= 1 << (pk & 7)

    def __contains__(self, pk: int) -> bool:
        byte = pk >> 3
        return byte < len(self.bits) and bool(self.bits[byte] & (1 << (pk & 7)))


Write = Callable[[list[Found]], None]
Progress = Callable[[int], None]


def settle_window(settle_date: date) -> tuple[datetime, datetime]:
    """The settlement date's start and end (Beijing time) as aware datetimes."""
    start = datetime.combine(settle_date, time.min, tzinfo=BEIJING)
    return start, start + timedelta(days=1)


def _chunks(path: Path, width: int) -> Iterator[list[list[str]]]:
    """The file's lines after the header, parsed, in lists of RECONCILIATION_CHUNK."""
    with open(path, encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        next(reader, None)
        while chunk := list(islice(reader, settings.RECONCILIATION_CHUNK)):
            if any(len(line) != width for line in chunk):
                raise StatementRefused("a line has the wrong number of fields", code="statement_malformed")
            yield chunk


def _fen(text: str) -> int:
    try:
        fen = int(text)
    except ValueError:
        raise StatementRefused("an amount is not whole fen", code="statement_malformed") from None
    return fen


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


# Debits

ATTEMPTS_BY_KEY = (
    "SELECT idempotency_key, id, (amount * 100)::bigint, status "  # noqa: S608 - the model's table
    f"FROM {DebitAttempt._meta.db_table} WHERE idempotency_key = ANY(%s)"
)


def debit_kind(bank_status: str, bank_fen: int, our_status: str | None, our_fen: int | None) -> str | None:
    """The difference a debit line makes with our attempt (the table above), or None."""
    if our_status is None:
        return Kind.UNKNOWN_ORDER
    if bank_status == "succeeded" and our_status == PENDING:
        return Kind.BANK_SUCCESS_UNKNOWN_TO_US
    expected = {"succeeded": SUCCEEDED, "failed": FAILED}.get(bank_status)
    if our_status != expected:
        return Kind.STATUS_DIFFERS
    if our_fen != bank_fen:
        return Kind.AMOUNT_DIFFERS
    return None


def debits_match(path: Path, *, totals: Totals, write: Write, progress: Progress) -> IdBits:
    """Every line of a debit statement against our attempts; returns the ids of our succeeded
    attempts the file names (for ``successes_missing``)."""
    named = IdBits()
    connection.ensure_connection()
    # psycopg's own cursor binds on the server: a chunk's keys go as one array, not quoted text.
    with psycopg.Cursor(connection.connection) as cursor:
        for chunk in _chunks(path, 6):
            cursor.execute(ATTEMPTS_BY_KEY, [[line[0] for line in chunk]], prepare=False)
            ours = {key: (pk, fen, status) for key, pk, fen, status in cursor.fetchall()}
            found = []
            for order_no, amount, status, failure_code, bank_ref, processed_at in chunk:
                bank_fen = _fen(amount)
                pk, our_fen, our_status = ours.get(order_no, (None, None, None))
                if our_status == SUCCEEDED:
                    named.add(pk)
                kind = debit_kind(status, bank_fen, our_status, our_fen)
                if kind is None:
                    totals.matched += 1
                    totals.matched_fen += bank_fen if status == "succeeded" else 0
                    continue
                bank = {
                    "status": status,
                    "amount_fen": bank_fen,
                    "failure_code": failure_code,
                    "bank_ref": bank_ref,
                    "processed_at": processed_at,
                }
                found.append(
                    Found(
                        kind=kind,
                        key=order_no,
                        order_no=order_no,
                        attempt_id=pk,
                        our_amount=_yuan(our_fen),
                        bank_amount=_yuan(bank_fen),
                        evidence={"order_no": order_no, "bank": bank},
                    )
                )
            totals.lines += len(chunk)
            _add_ours(found)
            write(found)
            totals.found += len(found)
            progress(len(chunk))
    return named


def _add_ours(found: list[Found]) -> None:
    """Our side of each debit difference, for its evidence (a few rows: only the differences)."""
    ids = [item.attempt_id for item in found if item.attempt_id]
    attempts = DebitAttempt.objects.select_related("card").in_bulk(ids) if ids else {}
    for item in found:
        attempt = attempts.get(item.attempt_id)
        if attempt is not None:
            item.evidence["ours"] = {
                "status": attempt.status,
                "amount": str(attempt.amount),
                "bank_ref": attempt.gateway_reference,
                "failure_code": attempt.failure_code,
                "sent_at": (attempt.resent_at or attempt.created_at).isoformat(),
                "settled_at": attempt.settled_at.isoformat() if attempt.settled_at else "",
                "card": attempt.card.masked_number if attempt.card else "",
            }


def successes_missing(
    settle_date: date, named: IdBits, gateway: BankGateway, *, totals: Totals, write: Write
) -> None:
    """Our successes of the settlement date that the file does not name, in one query over
    that date's attempts ordered by key (only ids and times read; whole rows for the missing)."""
    start, end = settle_window(settle_date)
    boundary = end - timedelta(seconds=settings.RECONCILIATION_BOUNDARY_SECONDS)
    ours = (
        DebitAttempt.objects.filter(
            status=SUCCEEDED, created_at__gte=start - timedelta(days=RESEND_DAYS), created_at__lt=end
        )
        .filter(Q(resent_at__isnull=True, created_at__gte=start) | Q(resent_at__gte=start, resent_at__lt=end))
        .annotate(
            sent_at=Coalesce("resent_at", "created_at"),
            late=ExpressionWrapper(Q(sent_at__gte=boundary), output_field=BooleanField()),
        )
        .order_by("idempotency_key")
        .values_list("pk", "late")
    )
    missing = []
    for pk, late in ours.iterator(chunk_size=settings.RECONCILIATION_CHUNK):
        if pk in named:
            continue
        missing.append((pk, late))
        if len(missing) >= settings.RECONCILIATION_CHUNK:
            _missing_write(missing, gateway, totals, write)
            missing = []
    _missing_write(missing, gateway, totals, write)


def _missing_write(
    missing: list[tuple[int, bool]], gateway: BankGateway, totals: Totals, write: Write
) -> None:
    """The differences for these attempts (id, sent within the boundary of midnight)."""
    late = {pk for pk, near in missing if near}
    attempts = DebitAttempt.objects.select_related("card").filter(pk__in=[pk for pk, _near in missing])
    found = [
        _missing(attempt)
        for attempt in attempts.order_by("idempotency_key")
        if attempt.pk not in late or not _bank_has(gateway, attempt.idempotency_key)
    ]
    write(found)
    totals.found += len(found)


def _bank_has(gateway: BankGateway, order_no: str) -> bool:
    """Sent just before midnight: the bank may have processed it on the next date."""
    try:
        result = gateway.query_debit(idempotency_key=order_no)
    except GatewayError:
        return False
    return result is not None and result.succeeded


def _missing(attempt: DebitAttempt) -> Found:
    return Found(
        kind=Kind.OUR_SUCCESS_MISSING_AT_BANK,
        key=attempt.idempotency_key,
        order_no=attempt.idempotency_key,
        attempt_id=attempt.pk,
        our_amount=attempt.amount,
        evidence={
            "order_no": attempt.idempotency_key,
            "ours": {
                "status": attempt.status,
                "amount": str(attempt.amount),
                "bank_ref": attempt.gateway_reference,
                "sent_at": (attempt.resent_at or attempt.created_at).isoformat(),
                "settled_at": attempt.settled_at.isoformat() if attempt.settled_at else "",
                "card": attempt.card.masked_number if attempt.card else "",
            },
        },
    )


# Agreements


def masked_agreement(agreement_no: str) -> str:
    """An agreement number is a debit credential: only its ends are shown."""
    return f"{agreement_no[:4]}…{agreement_no[-4:]}" if len(agreement_no) > 8 else "…"


def _mandate_side(mandate: Mandate) -> dict:
    return {
        "status": mandate.status,
        "created_at": mandate.created_at.isoformat(),
        "revoked_at": mandate.revoked_at.isoformat() if mandate.revoked_at else "",
        "card": mandate.card.masked_number,
    }


def agreements_match(path: Path, settle_date: date, *, totals: Totals, write: Write) -> None:
    """The agreements active at the bank at the end of the date against our mandates active then."""
    _start, end = settle_window(settle_date)
    margin = timedelta(seconds=settings.RECONCILIATION_BOUNDARY_SECONDS)
    active_then = Q(created_at__lt=end + margin) & (
        Q(revoked_at__isnull=True) | Q(revoked_at__gte=end - margin)
    )
    named = IdBits()
    for chunk in _chunks(path, 6):
        lines = {Mandate.fingerprint_of(line[0]): line for line in chunk if line[1] == "active"}
        ours = (
            Mandate.objects.filter(token_fingerprint__in=list(lines))
            .annotate(active=ExpressionWrapper(active_then, output_field=BooleanField()))
            .values_list("token_fingerprint", "pk", "active")
        )
        agreeing, known = set(), {}
        for fp, pk, active in ours:
            named.add(pk)
            known[fp] = max(pk, known.get(fp, 0))  # the latest mandate under it, for the evidence
            if active:
                agreeing.add(fp)
        found = [_only_at_bank(fp, line, known.get(fp)) for fp, line in lines.items() if fp not in agreeing]
        _mandate_sides(found)
        totals.agreements += len(chunk)
        write(found)
        totals.found += len(found)
    _mandates_missing(named, end, margin, totals=totals, write=write)


def _only_at_bank(fp: str, line: list[str], mandate_id: int | None) -> Found:
    agreement_no, status, last4, signed_at, _ended_at, _ended_by = line
    evidence = {
        "agreement": masked_agreement(agreement_no),
        "card": f"**** {last4}",
        "bank": {"status": status, "signed_at": signed_at},
    }
    return Found(kind=Kind.AGREEMENT_ONLY_AT_BANK, key=fp, mandate_id=mandate_id, evidence=evidence)


def _mandate_sides(found: list[Found]) -> None:
    ids = [item.mandate_id for item in found if item.mandate_id]
    mandates = Mandate.objects.select_related("card").in_bulk(ids) if ids else {}
    for item in found:
        if item.mandate_id in mandates:
            item.evidence["ours"] = _mandate_side(mandates[item.mandate_id])


def _mandates_missing(
    named: IdBits, end: datetime, margin: timedelta, *, totals: Totals, write: Write
) -> None:
    """Our mandates active all through the end of the date that the bank does not list as active."""
    ours = (
        Mandate.objects.filter(created_at__lt=end - margin)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gte=end + margin))
        .exclude(token_fingerprint="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    missing = []
    for pk in ours.iterator(chunk_size=settings.RECONCILIATION_CHUNK):
        if pk not in named:
            missing.append(pk)
        if len(missing) >= settings.RECONCILIATION_CHUNK:
            _mandates_write(missing, totals, write)
            missing = []
    _mandates_write(missing, totals, write)


def _mandates_write(ids: list[int], totals: Totals, write: Write) -> None:
    found = [
        Found(
            kind=Kind.MANDATE_NOT_AT_BANK,
            key=mandate.token_fingerprint,
            mandate_id=mandate.pk,
            evidence={
                "agreement": masked_agreement(mandate.token),
                "card": mandate.card.masked_number,
                "ours": _mandate_side(mandate),
            },
        )
        for mandate in Mandate.objects.select_related("card").filter(pk__in=ids).order_by("pk")
    ]
    write(found)
    totals.found += len(found)
