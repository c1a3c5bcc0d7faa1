from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Help and complaints")

    def ready(self):
        from support import review_kinds

        review_kinds.register()
