from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import Action


class AppendOnlyError(Exception):
    """Audit events are never changed or removed (PostgreSQL enforces it with a trigger too)."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit events cannot be updated")


class AuditEvent(models.Model):
    """One state change: who, what, on which subject, from where. Append-only."""

    class ActorKind(models.TextChoices):
        BORROWER = "borrower", _("Borrower")
        STAFF = "staff", _("Staff")
        SYSTEM = "system", _("System job")
        ANONYMOUS = "anonymous", _("Anonymous")

    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    actor_label = models.CharField(
        _("actor label"), max_length=150, blank=True, help_text=_("Username, masked phone or job")
    )
    action = models.CharField(_("action"), max_length=64, choices=Action.choices)
    subject_type = models.CharField(_("subject type"), max_length=100, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="audit_event_time_idx"),
            models.Index(fields=["action", "occurred_at"], name="audit_event_action_idx"),
            models.Index(fields=["actor", "occurred_at"], name="audit_event_actor_idx"),
            models.Index(
                fields=["subject_type", "subject_id", "occurred_at"], name="audit_event_subject_idx"
            ),
            models.Index(fields=["request_id"], name="audit_event_request_idx"),
            models.Index(fields=["ip", "occurred_at"], name="audit_event_ip_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} · {self.actor_label or self.get_actor_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")

    @property
    def subject(self) -> str:
        return f"{self.subject_type} #{self.subject_id}" if self.subject_type else ""
