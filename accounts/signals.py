from django.conf import settings

from accounts.models import User
from audit.models import RiskAlert


def freeze_on_high_risk(sender, alert: RiskAlert, **kwargs) -> None:
    """A high-severity alert about a borrower freezes the account, when RISK_FREEZE_ON_HIGH_ALERT is on."""
    from accounts.services.freeze import account_freeze

    if (
        not settings.RISK_FREEZE_ON_HIGH_ALERT
        or alert.severity != RiskAlert.Severity.HIGH
        or not alert.borrower_id
    ):
        return
    user = User.objects.get(pk=alert.borrower_id)
    if user.is_borrower:
        account_freeze(actor=None, user=user, reason=f"risk alert #{alert.pk}: {alert.rule}")
