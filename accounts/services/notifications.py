"""The in-app inbox. Notifications are side effects of audited changes, not changes of their own."""

from django.utils import timezone

from accounts.models import Notification, User
from accounts.notifications import TEXTS


def notification_create(*, user: User, kind: str, params: dict | None = None, link: str = "") -> Notification:
    if kind not in TEXTS:
        raise ValueError(f"unknown notification kind {kind!r}")
    return Notification.objects.create(user=user, kind=kind, params=params or {}, link=link)


def notifications_mark_read(*, actor: User) -> int:
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())
