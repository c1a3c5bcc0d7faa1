"""The in-app inbox. Notifications are side effects of audited changes, not changes of their own."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import signin_cache
from accounts.models import Notification, User
from accounts.notifications import TEXTS


@transaction.atomic
def notification_create(*, user: User, kind: str, params: dict | None = None, link: str = "") -> Notification:
    if kind not in TEXTS:
        raise ValueError(f"unknown notification kind {kind!r}")
    notification = Notification.objects.create(user=user, kind=kind, params=params or {}, link=link)
    User.objects.filter(pk=user.pk).update(unread_notifications=F("unread_notifications") + 1)
    signin_cache.forget(user.pk)  # the header's count comes with the cached user
    return notification


@transaction.atomic
def notifications_mark_read(*, actor: User) -> int:
    """The user row is locked first, so a notification created meanwhile is either marked read
    here or counted after."""
    User.objects.select_for_update().filter(pk=actor.pk).values_list("pk").get()
    read = Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())
    User.objects.filter(pk=actor.pk).update(unread_notifications=0)
    signin_cache.forget(actor.pk)
    return read
