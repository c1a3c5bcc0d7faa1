from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "lending"
    verbose_name = _("Lending")

    def ready(self):
        from lending import ids  # noqa: F401  (registers the <id:...> URL converter)


class BackOfficeAdminConfig(admin_apps.AdminConfig):
    """The Django admin, installed as the OTP-protected back office."""

    default = False
    default_site = "lending.admin_site.BackOfficeSite"

    def ready(self):
        from lending.times import zoned_admin_display

        super().ready()
        zoned_admin_display()  # every time in the back office with its zone (lending/times.py)
