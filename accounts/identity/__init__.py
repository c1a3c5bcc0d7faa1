"""Identity-provider adapters, chosen by the IDENTITY_PROVIDER setting (like the bank gateway)."""

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.identity.base import (
    CheckResult,
    IdentityProvider,
    LivenessResult,
    LivenessStart,
    Outcome,
    ProviderError,
    ProviderUnavailable,
)


def get_provider() -> IdentityProvider:
    return import_string(settings.IDENTITY_PROVIDER)()


__all__ = [
    "CheckResult",
    "IdentityProvider",
    "LivenessResult",
    "LivenessStart",
    "Outcome",
    "ProviderError",
    "ProviderUnavailable",
    "get_provider",
]
