from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "cards"
    verbose_name = _("Bank cards")

    def ready(self):
        from cards import review_kinds, risk

        risk.register()
        review_kinds.register()
