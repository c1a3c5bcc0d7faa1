from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from accounts import review_kinds
        from accounts.roles import sync_staff_groups
        from accounts.signals import connect_signin_forgetting, freeze_on_high_risk
        from audit.signals import risk_alert_opened

        post_migrate.connect(sync_staff_groups, sender=self)
        risk_alert_opened.connect(freeze_on_high_risk, dispatch_uid="accounts.freeze_on_high_risk")
        review_kinds.register()
        connect_signin_forgetting()
