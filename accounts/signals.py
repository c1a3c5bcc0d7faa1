from django.conf import settings
from django.db.models.signals import post_delete, post_save

from accounts import signin_cache
from accounts.models import SmsCode, User
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


def forget_signin(sender, instance, **kwargs) -> None:
    """A saved or deleted user row or SMS device ends the user's cached sign-in on commit
    (accounts/signin_cache.py)."""
    signin_cache.forget(instance.pk if sender is User else instance.user_id)


def connect_signin_forgetting() -> None:
    for model in (User, SmsCode):
        for signal in (post_save, post_delete):
            uid = f"accounts.forget_signin.{model.__name__}"
            signal.connect(forget_signin, sender=model, dispatch_uid=uid)
