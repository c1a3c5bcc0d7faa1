"""Risk alerts: raised by the scheduled scan, handled by officers."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import risk
from audit.actions import Action
from audit.models import RiskAlert
from audit.services.events import record
from audit.signals import risk_alert_opened
from lending.errors import DomainError
from lending.pii import redact

OPEN_STATES = (RiskAlert.Status.OPEN, RiskAlert.Status.ACKNOWLEDGED)


def risk_alert_raise(*, finding: risk.Finding, now: datetime) -> RiskAlert | None:
    """Open an alert for a finding, unless one for its rule and subject is still being handled,
    or an officer resolved one after the events that make up this finding."""
    rule = finding.rule
    same = RiskAlert.objects.filter(
        rule=rule.code, subject_type=finding.subject_type, subject_id=finding.subject_id
    )
    with transaction.atomic():
        if same.filter(status__in=OPEN_STATES).exists():
            return None
        if same.filter(status=RiskAlert.Status.RESOLVED, handled_at__gte=finding.last_event_at).exists():
            return None
        # Users print masked (their __str__); an IP is not personal data of one borrower.
        borrower = (
            get_user_model().objects.filter(pk=finding.borrower_id).first() if finding.borrower_id else None
        )
        label = str(borrower) if borrower else finding.subject_id
        try:
            with transaction.atomic():
                alert = RiskAlert.objects.create(
                    rule=rule.code,
                    severity=rule.severity,
                    subject_type=finding.subject_type,
                    subject_id=finding.subject_id,
                    subject_label=label,
                    borrower_id=finding.borrower_id,
                    window_start=now - rule.window,
                    reason=str(rule.reason),
                    evidence={"count": finding.count, "window_hours": rule.window.total_seconds() / 3600},
                )
        except IntegrityError:  # another scan raised it a moment ago
            return None
        record(
            action=Action.RISK_ALERT_OPENED,
            actor=None,
            subject=alert,
            data={"rule": rule.code, "severity": rule.severity, "subject": label},
        )
        risk_alert_opened.send(sender=RiskAlert, alert=alert)
    return alert


def risk_scan(*, now: datetime | None = None) -> list[RiskAlert]:
    """Beat: run every rule over the last RISK_SCAN_MINUTES of events (with a minute of overlap)."""
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.RISK_SCAN_MINUTES + 1)
    raised = [risk_alert_raise(finding=finding, now=now) for finding in risk.scan(since, now)]
    return [alert for alert in raised if alert]


def _handle(
    *, actor, alert: RiskAlert, note: str, status: str, action: Action, allowed_from, note_field: str
) -> RiskAlert:
    if not actor.has_perm("audit.change_riskalert"):
        raise DomainError(_("You may not handle risk alerts."), code="forbidden")
    note = redact(note.strip()[:1000])
    if not note:
        raise DomainError(_("Write what you found."), code="note_required")
    alert = RiskAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status not in allowed_from:
        raise DomainError(
            _("This alert is already %(status)s.") % {"status": alert.get_status_display().lower()}
        )
    alert.status = status
    alert.handled_by = actor
    alert.handled_at = timezone.now()
    setattr(alert, note_field, note)
    alert.save()
    record(action=action, actor=actor, subject=alert, data={"rule": alert.rule})
    return alert


@transaction.atomic
def risk_alert_acknowledge(*, actor, alert: RiskAlert, note: str) -> RiskAlert:
    """An officer is on it."""
    return _handle(
        actor=actor,
        alert=alert,
        note=note,
        status=RiskAlert.Status.ACKNOWLEDGED,
        action=Action.RISK_ALERT_ACKNOWLEDGED,
        allowed_from=(RiskAlert.Status.OPEN,),
        note_field="note",
    )


@transaction.atomic
def risk_alert_resolve(*, actor, alert: RiskAlert, note: str) -> RiskAlert:
    """Closed with what was found; a later anomaly of the same kind raises a new alert."""
    return _handle(
        actor=actor,
        alert=alert,
        note=note,
        status=RiskAlert.Status.RESOLVED,
        action=Action.RISK_ALERT_RESOLVED,
        allowed_from=OPEN_STATES,
        note_field="resolution",
    )
