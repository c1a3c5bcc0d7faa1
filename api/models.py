"""What the app API keeps: device tokens, pending sign-ins and idempotent answers.

Secrets (tokens, sign-in tickets) are kept only as SHA-256 digests: they are 256-bit random
values, so a plain digest cannot be reversed and is looked up by an index.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeviceToken(models.Model):
    """An app's sign-in on one device, after both factors. Ends when revoked, idle or too old,
    or when the account's session auth hash changes (password, phone change, freeze, sign out
    everywhere: the rules that end web sessions end tokens the same way)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    device_id = models.CharField(_("device id"), max_length=64)
    device_name = models.CharField(_("device"), max_length=64)
    auth_hash = models.CharField(max_length=64)  # the user's session auth hash when issued
    created_at = models.DateTimeField(_("signed in"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)
    reauth_at = models.DateTimeField(null=True, blank=True)  # password typed again (sensitive steps)
    revoked_at = models.DateTimeField(_("signed out"), null=True, blank=True)

    class Meta:
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")
        indexes = [models.Index(fields=["user", "-id"], name="device_token_user_idx")]

    def __str__(self):
        return f"{self.device_name} ({self.pk})"


class SignInTicket(models.Model):
    """The password was right and a login code was sent: the ticket carries the app to step two."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket_hash = models.CharField(max_length=64, unique=True)
    device_id = models.CharField(max_length=64)
    device_name = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"sign-in {self.pk}"


class LostPhoneTicket(models.Model):
    """A lost-phone request started from an app (no sign-in: the old phone is gone). The ticket
    follows the request as the page's session does, while it is reviewed too."""

    change = models.ForeignKey("accounts.PhoneChange", on_delete=models.CASCADE, related_name="+")
    ticket_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"lost phone {self.change_id}"


class IdempotentRequest(models.Model):
    """The first answer to a state-changing request with an ``Idempotency-Key``.

    ``scope`` is the token's user (``user:<id>``) or, before sign-in, ``anonymous``; a key is
    unique within its scope. ``status`` 0 marks a request still running.
    """

    scope = models.CharField(max_length=40)
    key_hash = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    body_encrypted = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key_hash"], name="idempotent_key_once")]

    def __str__(self):
        return f"{self.scope} {self.status}"
