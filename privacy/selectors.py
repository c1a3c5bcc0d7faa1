from accounts.models import Consent
from lending.prepared import Prepared
from privacy.models import DataCopy

# The privacy centre's reads, compiled once (lending/prepared.py).
_consents_of = Prepared(
    lambda user_id: (
        Consent.objects.filter(user_id=user_id).select_related("withdrawal").order_by("-accepted_at", "-pk")
    ),
    int,
)
_copies_of = Prepared(lambda user_id: DataCopy.objects.filter(user_id=user_id).order_by("-id")[:5], int)


def consents_of(user) -> list[Consent]:
    """The borrower's consents, newest first, each with its withdrawal (if any) loaded."""
    return _consents_of(user.pk)


def consent_of(user, consent_id: int) -> Consent:
    return Consent.objects.select_related("withdrawal").get(pk=consent_id, user=user)


def copies_of(user) -> list[DataCopy]:
    """The borrower's five latest copies of their data."""
    return _copies_of(user.pk)


def copy_of(user, copy_id: int) -> DataCopy:
    return DataCopy.objects.get(pk=copy_id, user=user)
