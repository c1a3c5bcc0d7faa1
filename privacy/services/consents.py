"""Consents a borrower may give and take back from the privacy centre (PIPL art. 15)."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Consent, User
from accounts.policies import Policy
from accounts.services.registration import consent_record
from audit.actions import Action
from audit.context import current_request
from audit.services import record
from lending.errors import DomainError
from lending.prepared import Prepared
from privacy.models import ConsentWithdrawal

# What withdrawing each withdrawable consent means, said before the borrower confirms.
WITHDRAWABLE = {
    "marketing": gettext_lazy("We stop telling you about products and offers. Nothing else changes."),
    "biometrics": gettext_lazy(
        "No face check runs on this consent any more. A lost-phone request then needs a new consent "
        "for its face check, or a visit to a service centre. Results already kept stay with their request."
    ),
}
# Consents that end only with what they authorise, and where that is done.
ENDED_ELSEWHERE = {
    "privacy": gettext_lazy("This consent ends when you close your account."),
    "debit_authorisation": gettext_lazy("This authorisation ends when you unbind the card."),
}
GIVABLE = ("marketing",)
# What each policy document is called where a borrower reads their consents.
DOCUMENT_LABELS = {
    "privacy": gettext_lazy("Privacy policy"),
    "debit_authorisation": gettext_lazy("Debit authorisation"),
    "biometrics": gettext_lazy("Processing of facial information"),
    "marketing": gettext_lazy("Marketing contact"),
}


class ConsentRefused(DomainError):
    code = "consent_refused"


_active = Prepared(
    lambda user_id, document: Consent.objects.filter(
        user_id=user_id, document=document, withdrawal__isnull=True
    ),
    int,
    str,
    exists=True,
)


def is_active(user: User, document: str) -> bool:
    """Whether the borrower has a consent to ``document`` they have not withdrawn (compiled once:
    the privacy centre asks on every view)."""
    return _active(user.pk, document)


@transaction.atomic
def consent_give(*, actor: User, policy: Policy) -> Consent:
    """An optional consent given from the privacy centre (marketing contact)."""
    if policy.document not in GIVABLE:
        raise ConsentRefused(_("This consent is given where it is needed, not here."), code="not_givable")
    User.objects.select_for_update().get(pk=actor.pk)
    if is_active(actor, policy.document):
        raise ConsentRefused(_("You have already given this consent."), code="already")
    return consent_record(actor=actor, policy=policy)


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent) -> ConsentWithdrawal:
    """Withdraw one of the borrower's own consents; recorded with time, address and browser."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk, user=actor)
    if consent.document not in WITHDRAWABLE:
        message = ENDED_ELSEWHERE.get(consent.document, _("This consent cannot be withdrawn here."))
        raise ConsentRefused(str(message), code="not_withdrawable")
    if ConsentWithdrawal.objects.filter(consent=consent).exists():
        raise ConsentRefused(_("This consent is already withdrawn."), code="already")
    context = current_request()
    withdrawal = ConsentWithdrawal.objects.create(
        consent=consent,
        ip=context.ip if context else None,
        user_agent=(context.user_agent if context else "")[:300],
    )
    record(
        action=Action.CONSENT_WITHDRAWN,
        actor=actor,
        subject=consent,
        data={"document": consent.document, "version": consent.version},
    )
    return withdrawal
