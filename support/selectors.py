from django.contrib.auth import get_user_model
from django.db.models import Q

from lending.prepared import Prepared
from support.models import SupportCase, SupportMessage


def cases_of(user):
    return SupportCase.objects.filter(borrower=user).order_by("-id")


_cases = Prepared(lambda user_id: cases_of(user_id), int)


def case_list(user) -> list[SupportCase]:
    """``cases_of`` for the help page, compiled once (lending/prepared.py)."""
    return _cases(user.pk)


def case_of(user, case_id: int) -> SupportCase:
    """The borrower's own case, or SupportCase.DoesNotExist (a 404, whoever else's it is)."""
    return SupportCase.objects.get(pk=case_id, borrower=user)


def borrower_messages(case: SupportCase):
    """What the borrower may read: their messages and support's replies, never internal notes."""
    return case.messages.exclude(kind=SupportMessage.Kind.NOTE).select_related("author")


def support_staff():
    """Who works help requests: active staff with the support or officer role (or superusers)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(groups__permissions__codename="change_supportcase")
            | Q(user_permissions__codename="change_supportcase")
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by("username")
    )
