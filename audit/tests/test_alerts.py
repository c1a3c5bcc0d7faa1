import pytest
from django.db import transaction

from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.actions import Action
from audit.models import AuditEvent, ReviewCase, RiskAlert
from audit.services import record, risk_alert_acknowledge, risk_alert_resolve, risk_scan
from audit.tasks import scan_risk
from lending.errors import DomainError

pytestmark = pytest.mark.django_db


def identity_reuse_attempt(borrower):
    with transaction.atomic():
        record(action=Action.IDENTITY_REFUSED, actor=borrower, subject=borrower)


def test_the_scan_opens_one_alert_per_rule_and_subject():
    borrower = BorrowerFactory(phone="+8613912345678")
    identity_reuse_attempt(borrower)

    alerts = risk_scan()
    identity_reuse_attempt(borrower)
    again = risk_scan()

    assert len(alerts) == 1 and again == []
    alert = RiskAlert.objects.get()
    assert (alert.rule, alert.severity, alert.status) == ("identity_reuse_attempt", "high", "open")
    assert alert.subject_label == "139****5678" and alert.borrower == borrower
    event = AuditEvent.objects.get(action="risk.alert_opened")
    assert (event.actor_kind, event.data["rule"]) == ("anonymous", "identity_reuse_attempt")


def test_the_beat_task_runs_the_scan_as_a_named_job():
    identity_reuse_attempt(BorrowerFactory())
    assert scan_risk() == 1
    assert AuditEvent.objects.get(action="risk.alert_opened").actor_label == "risk-scan"


def test_officers_acknowledge_then_resolve_with_a_note_and_a_new_anomaly_raises_a_new_alert():
    borrower = BorrowerFactory()
    identity_reuse_attempt(borrower)
    (alert,) = risk_scan()
    officer = StaffFactory(role="officer")

    risk_alert_acknowledge(actor=officer, alert=alert, note="looking into it")
    with pytest.raises(DomainError, match="already acknowledged"):
        risk_alert_acknowledge(actor=officer, alert=alert, note="again")
    alert = risk_alert_resolve(actor=officer, alert=alert, note="the borrower mistyped; called back")

    # The claim's note stays beside what was found (resolving once wrote over it).
    assert (alert.status, alert.handled_by, alert.note, alert.resolution) == (
        "resolved",
        officer,
        "looking into it",
        "the borrower mistyped; called back",
    )
    assert list(
        AuditEvent.objects.filter(subject_type="audit.riskalert")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "risk.alert_opened",
        "risk.alert_acknowledged",
        "risk.alert_resolved",
    ]
    assert risk_scan() == []  # the events the officer looked at raise nothing again
    identity_reuse_attempt(borrower)
    assert len(risk_scan()) == 1  # a new anomaly after the resolution is a new alert


@pytest.mark.parametrize("role", ["auditor", "support"])
def test_only_officers_handle_alerts(role):
    identity_reuse_attempt(BorrowerFactory())
    (alert,) = risk_scan()
    with pytest.raises(DomainError, match="may not"):
        risk_alert_resolve(actor=StaffFactory(role=role), alert=alert, note="x")


def test_a_note_is_required():
    identity_reuse_attempt(BorrowerFactory())
    (alert,) = risk_scan()
    with pytest.raises(DomainError, match="Write"):
        risk_alert_acknowledge(actor=StaffFactory(role="officer"), alert=alert, note=" ")


def test_a_high_severity_alert_freezes_the_account_when_the_setting_says_so(settings):
    borrower = BorrowerFactory()
    identity_reuse_attempt(borrower)
    settings.RISK_FREEZE_ON_HIGH_ALERT = True
    (alert,) = risk_scan()
    borrower.refresh_from_db()
    assert borrower.is_frozen and borrower.frozen_reason == f"risk alert #{alert.pk}: identity_reuse_attempt"
    assert ReviewCase.objects.get().kind == "account_unfreeze"


def test_without_the_setting_alerts_only_alert(settings):
    settings.RISK_FREEZE_ON_HIGH_ALERT = False
    borrower = BorrowerFactory()
    identity_reuse_attempt(borrower)
    risk_scan()
    borrower.refresh_from_db()
    assert not borrower.is_frozen
