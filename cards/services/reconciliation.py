"""Daily reconciliation with the bank: its signed statement files against our debit attempts and
mandates (the matching rules: cards/reconcile.py).

``reconciliation_run`` fetches a settlement date's two files (refused unless their digest and the
bank's signatures check), writes each difference once as a ReconciliationBreak (a re-run of the
date finds the same ones and adds none), records the date's totals on its ReconciliationRun,
audits the run and raises one alert for the officers when there are differences (or when the
file was refused). ``reconciliation_break_resolve`` is an officer closing one with a note. A
bank notice contradicting a settled attempt opens a break too (``reconciliation_break_notice``).

A run is not one transaction: over a million lines it writes its breaks chunk by chunk (each
chunk atomic), and its row says "running" until the totals are kept. A run that died is started
again after STALE_RUN; the breaks it wrote are found again and kept once.
"""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from audit.actions import Action
from audit.services import record
from cards import reconcile
from cards.gateways import get_gateway
from cards.gateways.base import GatewayError
from cards.models import ReconciliationBreak, ReconciliationRun
from lending.errors import DomainError
from lending.pii import redact

STALE_RUN = timedelta(hours=1)  # a run still "running" after this long died: it may be started again


def _no_progress(_lines: int, _total: int) -> None:
    pass


@transaction.atomic
def reconciliation_run_start(*, settle_date: date) -> ReconciliationRun:
    """The date's run, (re)started: its totals emptied (the breaks found before stay)."""
    run, created = ReconciliationRun.objects.select_for_update().get_or_create(settle_date=settle_date)
    now = timezone.now()
    if not created and run.status == ReconciliationRun.Status.RUNNING and run.started_at > now - STALE_RUN:
        raise DomainError(_("The reconciliation of this date is already running."), code="running")
    for name in ("lines", "matched", "matched_amount", "agreements", "breaks"):
        setattr(run, name, 0)
    run.status, run.started_at, run.finished_at, run.error = ReconciliationRun.Status.RUNNING, now, None, ""
    run.save()
    return run


def reconciliation_run(*, settle_date: date, progress=None) -> ReconciliationRun:
    """Reconcile one settlement date (Beijing time). ``progress(lines, total)`` is called after
    each chunk of debit lines with its size and the file's line count (a progress bar)."""
    progress = progress or _no_progress
    run = reconciliation_run_start(settle_date=settle_date)
    gateway, totals, kinds = get_gateway(), reconcile.Totals(), Counter()

    def write(found: list[reconcile.Found]) -> None:
        kinds.update(item.kind for item in found)
        _breaks_write(run, found)

    try:
        with gateway.statement(settle_date) as statement:
            named = reconcile.debits_match(
                statement.path,
                totals=totals,
                write=write,
                progress=lambda lines: progress(lines, statement.lines),
            )
            reconcile.successes_missing(settle_date, named, gateway, totals=totals, write=write)
            del named
        with gateway.agreement_statement(settle_date) as agreements:
            reconcile.agreements_match(agreements.path, settle_date, totals=totals, write=write)
    except GatewayError as exc:
        return reconciliation_run_fail(run=run, code=exc.code)
    except Exception:
        reconciliation_run_fail(run=run, code="internal_error")  # not left "running": it may be run again
        raise
    return reconciliation_run_finish(
        run=run, totals=totals, kinds=kinds, statement=statement, agreements=agreements
    )


def _breaks_write(run: ReconciliationRun, found: list[reconcile.Found]) -> None:
    """The differences not yet known for the date (one per date, kind and key)."""
    if not found:
        return
    known = set(
        ReconciliationBreak.objects.filter(
            settle_date=run.settle_date,
            kind__in={item.kind for item in found},
            key__in=[item.key for item in found],
        ).values_list("kind", "key")
    )
    new = [
        ReconciliationBreak(
            run=run,
            settle_date=run.settle_date,
            kind=item.kind,
            key=item.key,
            order_no=item.order_no,
            attempt_id=item.attempt_id,
            mandate_id=item.mandate_id,
            our_amount=item.our_amount,
            bank_amount=item.bank_amount,
            evidence=item.evidence,
        )
        for item in found
        if (item.kind, item.key) not in known
    ]
    with transaction.atomic():
        bulk_create_with_history(
            new, ReconciliationBreak, default_change_reason="found by the reconciliation"
        )


@transaction.atomic
def reconciliation_run_finish(*, run, totals, kinds, statement, agreements) -> ReconciliationRun:
    """The date's totals and files' proofs kept, the run audited, the officers alerted if needed."""
    run = ReconciliationRun.objects.select_for_update().get(pk=run.pk)
    run.lines, run.matched, run.agreements = totals.lines, totals.matched, totals.agreements
    run.matched_amount = Decimal(totals.matched_fen) / 100
    run.breaks = totals.found
    run.statement_final = statement.final
    run.statement_sha256, run.statement_signature = statement.sha256, statement.signature
    run.agreement_sha256, run.agreement_signature = agreements.sha256, agreements.signature
    run.status = ReconciliationRun.Status.BREAKS if totals.found else ReconciliationRun.Status.CLEAN
    run.finished_at = timezone.now()
    run.save()
    record(
        action=Action.RECONCILIATION_RUN,
        actor=None,
        subject=run,
        data={
            "date": run.settle_date.isoformat(),
            "lines": run.lines,
            "matched": run.matched,
            "amount": str(run.matched_amount),
            "agreements": run.agreements,
            "breaks": run.breaks,
            "kinds": dict(sorted(kinds.items())),
            "sha256": run.statement_sha256,
            "final": run.statement_final,
        },
    )
    if run.breaks:
        _alert("reconciliation_breaks", run.settle_date, run.breaks)
    return run


@transaction.atomic
def reconciliation_run_fail(*, run: ReconciliationRun, code: str) -> ReconciliationRun:
    """The bank's file was refused (digest, signature, form) or could not be fetched."""
    run = ReconciliationRun.objects.select_for_update().get(pk=run.pk)
    run.status, run.error, run.finished_at = ReconciliationRun.Status.FAILED, code[:64], timezone.now()
    run.save()
    record(
        action=Action.RECONCILIATION_FAILED,
        actor=None,
        subject=run,
        data={"date": run.settle_date.isoformat(), "error": run.error},
    )
    _alert("reconciliation_failed", run.settle_date, 1)
    return run


def _alert(code: str, settle_date: date, count: int) -> None:
    """One alert per settlement date while the officers handle it (the run's and the notices')."""
    from audit import risk
    from audit.services import risk_alert_raise
    from cards.risk import RECONCILIATION_RULES

    now = timezone.now()
    subject = settle_date.isoformat()
    finding = risk.Finding(RECONCILIATION_RULES[code], "cards.reconciliationrun", subject, None, count, now)
    risk_alert_raise(finding=finding, now=now)


@transaction.atomic
def reconciliation_break_resolve(*, actor, reconciliation_break: ReconciliationBreak, note: str):
    """An officer closes a difference with what was found and done (personal numbers masked)."""
    if not actor.has_perm("cards.resolve_reconciliationbreak"):
        raise DomainError(_("You may not resolve reconciliation breaks."), code="forbidden")
    note = redact(note.strip()[:1000])
    if not note:
        raise DomainError(_("Write what you found."), code="note_required")
    item = ReconciliationBreak.objects.select_for_update().get(pk=reconciliation_break.pk)
    if item.status != ReconciliationBreak.Status.OPEN:
        raise DomainError(_("This difference is already resolved."), code="resolved")
    item.status, item.resolution_note = ReconciliationBreak.Status.RESOLVED, note
    item.resolved_by, item.resolved_at = actor, timezone.now()
    item._change_reason = "resolved by an officer"
    item.save()
    record(
        action=Action.RECONCILIATION_BREAK_RESOLVED,
        actor=actor,
        subject=item,
        data={"date": item.settle_date.isoformat(), "kind": item.kind, "order_no": item.order_no},
    )
    return item


def reconciliation_break_notice(*, notice, attempt, note: str) -> ReconciliationBreak:
    """A bank notice contradicting a settled attempt (cards/services/notices.py): a difference
    for the officers, in the caller's transaction (which audits it). One per order number and
    settlement date."""
    payload = notice.payload
    try:
        settle_date = date.fromisoformat(payload.get("settle_date", ""))
    except ValueError:
        settle_date = timezone.localtime(notice.received_at, reconcile.BEIJING).date()
    evidence = {
        "order_no": payload["order_no"],
        "notice": notice.notice_id,
        "note": note,
        "bank": {
            key: payload.get(key, "")
            for key in ("status", "amount_fen", "failure_code", "bank_ref", "processed_at")
        },
        "ours": {
            "status": attempt.status,
            "amount": str(attempt.amount),
            "bank_ref": attempt.gateway_reference,
            "failure_code": attempt.failure_code,
        },
    }
    item, created = ReconciliationBreak.objects.get_or_create(
        settle_date=settle_date,
        kind=ReconciliationBreak.Kind.NOTICE_CONFLICT,
        key=payload["order_no"],
        defaults={
            "order_no": payload["order_no"],
            "attempt": attempt,
            "our_amount": attempt.amount,
            "bank_amount": Decimal(payload["amount_fen"]) / 100,
            "evidence": evidence,
        },
    )
    if created:
        _alert("reconciliation_breaks", settle_date, 1)
    return item
