"""Versioned policy texts borrowers accept (privacy policy, debit authorisation, biometrics).

Each version's text lives in ``templates/policies/<document>/<version>.<language>.html``.
A consent records the version and the SHA-256 of the exact text shown, so the text a
borrower agreed to can be proven later. Publish a new version by adding files and
changing CURRENT; old files stay.
"""

import hashlib
from dataclasses import dataclass

from django.template.loader import get_template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

CURRENT = {
    "privacy": "2026-11",
    "debit_authorisation": "2026-11",
    "biometrics": "2026-11",
    "marketing": "2026-11",
}
TITLES = {
    "privacy": _("Privacy policy"),
    "debit_authorisation": _("Debit authorisation"),
    "biometrics": _("Consent to face recognition"),
    "marketing": _("Marketing contact"),
}


@dataclass(frozen=True)
class Policy:
    document: str
    version: str
    language: str
    text: str

    @property
    def html(self) -> SafeString:
        """The text as pages show it: the very characters the consent's hash is of."""
        return mark_safe(self.text)  # noqa: S308 (the policy files are ours, published and hashed)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def current_policy(document: str, language: str | None = None) -> Policy:
    return policy_version(document, CURRENT[document], language)


def policy_version(document: str, version: str, language: str | None = None) -> Policy:
    """One version of a policy (old ones stay readable: a borrower sees the text they agreed to)."""
    language = language or translation.get_language()
    language = language if language in ("zh-hans", "en") else "zh-hans"
    name = f"policies/{document}/{version}.{language}.html"
    return Policy(document, version, language, get_template(name).template.source)
