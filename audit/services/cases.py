"""Review cases: open, decide (with four eyes on high risk), cancel, escalate, expire."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import reviews
from audit.actions import Action
from audit.context import system_job
from audit.models import ReviewCase, ReviewCaseSeen, ReviewDecision
from audit.risk import Assessment
from audit.services.events import record
from audit.sla import add_working_hours
from lending.errors import DomainError
from lending.outbox import outbox_enqueue
from lending.pii import redact

logger = logging.getLogger(__name__)

Verdict = ReviewDecision.Verdict


class ReviewRefused(DomainError):
    code = "review_refused"


class ReviewActionFailed(DomainError):
    code = "review_action_failed"


@transaction.atomic
def review_case_open(*, kind: str, subject, borrower, requested_by, risk: Assessment) -> ReviewCase:
    """Open a case in the caller's transaction; every officer hears of it after commit."""
    from audit.tasks import notify_officers

    reviews.get(kind)
    now = timezone.now()
    case = ReviewCase(
        kind=kind,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=str(subject.pk),
        borrower=borrower,
        requested_by=requested_by,
        risk_score=risk.score,
        reasons=risk.as_json(),
        approvals_needed=2 if risk.score >= settings.REVIEW_HIGH_RISK_SCORE else 1,
        opened_at=now,
        sla_due_at=add_working_hours(now, settings.REVIEW_SLA_WORKING_HOURS),
    )
    case._change_reason = "opened"
    case.save()
    record(
        action=Action.REVIEW_CASE_OPENED,
        actor=requested_by,
        subject=case,
        data={"kind": kind, "risk_score": case.risk_score, "reasons": [r["code"] for r in case.reasons]},
    )
    outbox_enqueue(task=notify_officers, kwargs={"case_id": case.pk, "event": "opened"})
    return case


def _ensure_can_decide(case: ReviewCase, officer) -> None:
    if not case.is_open:
        raise ReviewRefused(
            _("This case is already %(status)s.") % {"status": case.get_status_display().lower()}
        )
    if officer.pk == case.borrower_id:
        raise ReviewRefused(_("Nobody may decide a case about their own account."))
    if officer.pk == case.requested_by_id:
        raise ReviewRefused(_("Nobody may decide a case they requested."))
    if case.decisions.filter(officer=officer).exists():
        raise ReviewRefused(
            _("You already approved this case; another officer must give the second approval.")
        )


def _close(case: ReviewCase, status: str, reason: str, action: Action, actor) -> None:
    case.status = status
    case.decided_at = timezone.now()
    case.outcome_reason = reason
    case._change_reason = status
    case.save()
    record(action=action, actor=actor, subject=case, data={"kind": case.kind})


def review_case_decide(*, actor, case_id: int, verdict: str, reason: str) -> ReviewCase:
    """An officer approves or rejects, with a reason.

    Nobody decides a case about their own account or one they requested. A case whose
    risk score reaches REVIEW_HIGH_RISK_SCORE needs two approvals from two officers before
    the registered approve action runs; one rejection ends it. The case row is locked, so
    two officers deciding at once give one decision. When the approve action fails, nothing
    of the decision stays, the failure is recorded, and ReviewActionFailed says why.
    """
    if not (actor.is_staff and actor.has_perm("audit.decide_reviewcase")):
        raise ReviewRefused(_("You may not decide review cases."))
    reason = redact(reason.strip()[:1000])  # cut, then mask: a cut could free a number
    if not reason:
        raise ReviewRefused(_("Give the reason for your decision."))
    if verdict not in Verdict.values:
        raise ReviewRefused(_("Approve or reject."))
    failure = None
    try:
        with transaction.atomic(durable=True):
            case = ReviewCase.objects.select_for_update().get(pk=case_id)
            _ensure_can_decide(case, actor)
            ReviewDecision.objects.create(case=case, officer=actor, verdict=verdict, reason=reason)
            kind = reviews.get(case.kind)
            if verdict == Verdict.REJECT:
                kind.reject(case, actor, reason)
                _close(case, ReviewCase.Status.REJECTED, reason, Action.REVIEW_CASE_REJECTED, actor)
            elif case.decisions.filter(verdict=Verdict.APPROVE).count() < case.approvals_needed:
                record(action=Action.REVIEW_CASE_APPROVAL_RECORDED, actor=actor, subject=case)
            else:
                try:
                    kind.approve(case, actor)
                except Exception as exc:
                    failure = exc
                    raise
                _close(case, ReviewCase.Status.APPROVED, reason, Action.REVIEW_CASE_APPROVED, actor)
    except Exception:
        if failure is None:
            raise
    if failure is not None:
        return _approval_failed(actor, case_id, failure)
    return case


def _approval_failed(actor, case_id: int, failure: Exception):
    if isinstance(failure, DomainError):
        why = failure.message
    else:
        logger.exception("approve action of review case %s failed", case_id, exc_info=failure)
        why = _("an unexpected error (it is logged)")
    with transaction.atomic():
        case = ReviewCase.objects.get(pk=case_id)
        record(
            action=Action.REVIEW_ACTION_FAILED,
            actor=actor,
            subject=case,
            data={"error": redact(str(why)[:300])},
        )
    raise ReviewActionFailed(
        _("The approval could not be carried out: %(why)s The case stays open.") % {"why": why}
    )


@transaction.atomic
def review_case_approve_by_rule(*, case: ReviewCase, rule: str, reason: str) -> bool:
    """A named system rule approves an open case instead of an officer (in the caller's
    transaction): its kind's approve action runs with no officer, the case is closed with
    ``reason``, and the audit trail names the rule as the actor. An approve action that
    refuses (DomainError) changes nothing and the case stays open for the officers: False."""
    case = ReviewCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        return False
    with system_job(f"rule:{rule}"):
        try:
            with transaction.atomic():
                reviews.get(case.kind).approve(case, None)
        except DomainError as exc:
            logger.info("rule %s did not approve review case %s: %s", rule, case.pk, exc.code)
            return False
        case.status = ReviewCase.Status.APPROVED
        case.decided_at = timezone.now()
        case.outcome_reason = reason
        case._change_reason = f"approved by the rule {rule}"
        case.save()
        record(
            action=Action.REVIEW_CASE_APPROVED_BY_RULE,
            actor=None,
            subject=case,
            data={"kind": case.kind, "rule": rule},
        )
    return True


@transaction.atomic
def review_case_close_cleared(*, actor, case: ReviewCase, reason: str, data: dict) -> None:
    """The borrower cleared what the case was to check (a passing face check): the case closes
    as approved without an officer, and says so. The caller carries out the change itself."""
    case = ReviewCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        return
    case.status = ReviewCase.Status.APPROVED
    case.decided_at = timezone.now()
    case.outcome_reason = reason
    case._change_reason = "cleared by the borrower's face check"
    case.save()
    record(
        action=Action.REVIEW_CASE_CLEARED_BY_FACE_CHECK,
        actor=actor,
        subject=case,
        data={"kind": case.kind, **data},
    )


@transaction.atomic
def review_case_cancel(*, actor, case: ReviewCase, reason: str) -> None:
    """Withdraw an open case (the requester gave up, or the request no longer applies)."""
    case = ReviewCase.objects.select_for_update().get(pk=case.pk)
    if case.is_open:
        _close(case, ReviewCase.Status.CANCELLED, reason, Action.REVIEW_CASE_CANCELLED, actor)


def review_case_mark_seen(*, officer, case: ReviewCase) -> None:
    """The officer opened the case: it is no longer new to them (not an audited change)."""
    ReviewCaseSeen.objects.get_or_create(case=case, officer=officer)


def review_cases_escalate() -> int:
    """Beat: flag each open case past its SLA once, and tell the officers."""
    from audit.tasks import notify_officers

    escalated = 0
    while True:
        with transaction.atomic():
            case = (
                ReviewCase.objects.select_for_update(skip_locked=True)
                .filter(
                    status=ReviewCase.Status.OPEN, escalated_at__isnull=True, sla_due_at__lt=timezone.now()
                )
                .order_by("sla_due_at")
                .first()
            )
            if case is None:
                return escalated
            case.escalated_at = timezone.now()
            case._change_reason = "escalated: past its SLA"
            case.save()
            record(action=Action.REVIEW_CASE_ESCALATED, actor=None, subject=case, data={"kind": case.kind})
            outbox_enqueue(task=notify_officers, kwargs={"case_id": case.pk, "event": "escalated"})
        escalated += 1


def review_cases_expire() -> int:
    """Beat: open cases older than REVIEW_EXPIRE_DAYS expire; their kind's reject action runs."""
    cutoff = timezone.now() - timedelta(days=settings.REVIEW_EXPIRE_DAYS)
    expired = 0
    while True:
        with transaction.atomic():
            case = (
                ReviewCase.objects.select_for_update(skip_locked=True)
                .filter(status=ReviewCase.Status.OPEN, opened_at__lt=cutoff)
                .order_by("opened_at")
                .first()
            )
            if case is None:
                return expired
            reason = _("No decision within %(days)d days.") % {"days": settings.REVIEW_EXPIRE_DAYS}
            reviews.get(case.kind).reject(case, None, reason)
            _close(case, ReviewCase.Status.EXPIRED, reason, Action.REVIEW_CASE_EXPIRED, None)
        expired += 1
