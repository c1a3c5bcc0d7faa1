"""Reads scoped to one borrower."""

from datetime import datetime

from django.db.models import Q

from accounts.models import Identity, Notification, PhoneChange, PhoneCheck, User
from audit.models import AuditEvent, ReviewCase
from lending.prepared import Prepared, PreparedRows

# Staff reading a record is the back office's own trail (auditors see it), not the borrower's activity.
NOT_SHOWN_TO_BORROWERS = ("access.viewed", "access.revealed")


def security_events(user: User):
    """The borrower's security activity, newest first: what they did, and what was done to their
    account (a freeze, an unfreeze, a number changed after review) without the back office's reads."""
    return _security_events(user.pk, str(user.pk))


def _security_events(user_id: int, subject_id: str):
    return (
        AuditEvent.objects.filter(
            Q(actor_id=user_id) | Q(subject_type="accounts.user", subject_id=subject_id)
        )
        .exclude(action__in=NOT_SHOWN_TO_BORROWERS)
        .order_by("-id")
    )


# The security and notification pages' lists, compiled once (lending/prepared.py), for Paginator.
_security_page = Prepared(_security_events, int, str)
_security_count = Prepared(_security_events, int, str, count=True)
_inbox = Prepared(lambda user_id: notifications_of(user_id), int)
_inbox_count = Prepared(lambda user_id: notifications_of(user_id), int, count=True)


def security_events_to_page(user: User) -> PreparedRows:
    return PreparedRows(_security_page, _security_count, user.pk, str(user.pk))


def notifications_to_page(user: User) -> PreparedRows:
    return PreparedRows(_inbox, _inbox_count, user.pk)


# Read by the account page, the card pages and the API's account: compiled once (lending/prepared.py).
_identity_of = Prepared(lambda user_id: Identity.objects.filter(user_id=user_id)[:1], int)
_last_phone_change = Prepared(
    lambda user_id: (
        PhoneChange.objects.filter(user_id=user_id, status=PhoneChange.Status.COMPLETED)
        .order_by("-completed_at")
        .only("completed_at")[:1]
    ),
    int,
)


def identity_of(user: User) -> Identity | None:
    return next(iter(_identity_of(user.pk)), None)


def open_phone_change(user: User) -> PhoneChange | None:
    change = PhoneChange.objects.filter(user=user, status__in=PhoneChange.OPEN).order_by("-id").first()
    return change if change and change.is_open else None


def phone_change_of(user: User, change_id: int) -> PhoneChange:
    """One of the borrower's own phone changes (DoesNotExist for anyone else's)."""
    return PhoneChange.objects.get(pk=change_id, user=user)


def last_phone_change_at(user: User) -> datetime | None:
    """When the borrower's number last changed (the card rules wait after it)."""
    changed = _last_completed_change(user)
    return changed.completed_at if changed else None


def _last_completed_change(user: User) -> PhoneChange | None:
    """The borrower's last completed phone change, only its ``completed_at`` loaded."""
    return next(iter(_last_phone_change(user.pk)), None)


def account_phone_check(user: User) -> PhoneCheck | None:
    """The carrier's latest answer for the account phone as it is now: a check of the number the
    last completed phone change bound, or one made with no change (at identity verification,
    or asked again) since then."""
    changed = _last_completed_change(user)
    of_account = Q(phone_change__isnull=True)
    if changed is not None:
        of_account = Q(phone_change=changed) | Q(of_account, checked_at__gt=changed.completed_at)
    return PhoneCheck.objects.filter(of_account, user=user).order_by("-checked_at", "-id").first()


def notifications_of(user: User):
    return Notification.objects.filter(user=user).order_by("-id")


def lost_phone_case(change: PhoneChange):
    """The review case of a lost-phone request (its status and, once decided, the reason)."""
    return (
        ReviewCase.objects.filter(
            kind="phone_lost", subject_id=str(change.pk), subject_type__model="phonechange"
        )
        .order_by("-id")
        .first()
    )


def latest_lost_phone_request(user: User) -> PhoneChange | None:
    return PhoneChange.objects.filter(user=user, path=PhoneChange.Path.LOST_PHONE).order_by("-id").first()


def latest_reviewed_phone_change(user: User) -> PhoneChange | None:
    """The borrower's latest phone change (path a) that went to review, if it is still news."""
    return (
        PhoneChange.objects.filter(
            user=user,
            path=PhoneChange.Path.OLD_PHONE,
            status__in=(PhoneChange.Status.IN_REVIEW, PhoneChange.Status.REJECTED),
        )
        .order_by("-id")
        .first()
    )


def phone_change_case(change: PhoneChange):
    """The review case of a phone change whose new number the carrier did not confirm."""
    return (
        ReviewCase.objects.filter(
            kind="phone_other_name", subject_id=str(change.pk), subject_type__model="phonechange"
        )
        .order_by("-id")
        .first()
    )
