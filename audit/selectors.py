"""Reads for the back office."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q

from audit.models import AuditEvent, ReviewCase, ReviewCaseSeen
from lending.prepared import Prepared


def officers():
    """Active staff who may decide review cases (through a group, directly, or as superusers)."""
    permission = Permission.objects.get(codename="decide_reviewcase", content_type__app_label="audit")
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(groups__permissions=permission) | Q(user_permissions=permission) | Q(is_superuser=True))
        .distinct()
    )


def _unseen_open_cases(officer_id: int):
    seen = ReviewCaseSeen.objects.filter(case=OuterRef("pk"), officer_id=officer_id)
    return ReviewCase.objects.filter(status=ReviewCase.Status.OPEN).exclude(Exists(seen))


# Every back-office page shows it (the header's marker): compiled once (lending/prepared.py).
unseen_open_case_count = Prepared(_unseen_open_cases, int, count=True)


def borrower_timeline(borrower_id: int, limit: int = 20):
    """The borrower's latest audit events: what they did and what was done to their account."""
    return list(
        AuditEvent.objects.filter(
            Q(actor_id=borrower_id) | Q(subject_type="accounts.user", subject_id=str(borrower_id))
        ).order_by("-id")[:limit]
    )


def subject_history(case: ReviewCase, limit: int = 10):
    """simple-history records of the case's subject, newest first (empty if it keeps none)."""
    subject = case.subject
    history = getattr(subject, "history", None)
    if history is None:
        return []
    return list(history.select_related("history_user").order_by("-history_date")[:limit])
