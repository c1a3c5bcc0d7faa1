from accounts.models import Consent
from privacy.models import DataCopy


def consents_of(user):
    return Consent.objects.filter(user=user).select_related("withdrawal").order_by("-accepted_at", "-pk")


def consent_of(user, consent_id: int) -> Consent:
    return Consent.objects.select_related("withdrawal").get(pk=consent_id, user=user)


def copies_of(user):
    return DataCopy.objects.filter(user=user).order_by("-id")[:5]


def copy_of(user, copy_id: int) -> DataCopy:
    return DataCopy.objects.get(pk=copy_id, user=user)
