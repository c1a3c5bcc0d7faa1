"""Bank gateway adapters, chosen by the BANK_GATEWAY setting (like Django's email backends)."""

from django.conf import settings
from django.utils.module_loading import import_string

from cards.gateways.base import BankGateway


def get_gateway() -> BankGateway:
    return import_string(settings.BANK_GATEWAY)()
