from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from audit.actions import Action
from lending.choices import ChoiceLabels


class AppendOnlyError(Exception):
    """Audit events are never changed or removed (PostgreSQL enforces it with a trigger too)."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit events cannot be updated")


class AuditEvent(ChoiceLabels, models.Model):
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
            # The admin's filters: actor by label (username or masked phone), subject by id alone.
            models.Index(fields=["actor_label", "occurred_at"], name="audit_event_actor_label_idx"),
            models.Index(fields=["subject_id"], name="audit_event_subject_id_idx"),
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


def open_cases_first():
    """0 for an open case, 1 otherwise: the review queue's first sort key (indexed with it)."""
    return models.Case(
        models.When(status="open", then=models.Value(0)),
        default=models.Value(1),
        output_field=models.IntegerField(),
    )


class ReviewCase(models.Model):
    """A request held for manual review. Apps say what approve and reject do (audit.reviews)."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("case or alert status", "Open")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    kind = models.CharField(_("kind"), max_length=40)
    subject_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("subject type"), on_delete=models.PROTECT
    )
    subject_id = models.CharField(_("subject id"), max_length=64)
    subject = GenericForeignKey("subject_type", "subject_id")
    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("borrower"),
        null=True,
        on_delete=models.PROTECT,
        related_name="review_cases",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    risk_score = models.PositiveSmallIntegerField(_("risk score"), default=0)
    reasons = models.JSONField(_("reasons"), default=list, blank=True, help_text="[{code, text}]")
    approvals_needed = models.PositiveSmallIntegerField(_("approvals needed"), default=1)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    sla_due_at = models.DateTimeField(_("SLA due"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    outcome_reason = models.TextField(_("reason of the outcome"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("review case")
        verbose_name_plural = _("review cases")
        permissions = [("decide_reviewcase", _("Can approve or reject review cases"))]
        indexes = [
            models.Index(fields=["status", "opened_at"], name="review_case_queue_idx"),
            # The queue's order (open first, oldest first, then the admin's -pk): read, not sorted.
            models.Index(
                open_cases_first(), "opened_at", models.F("id").desc(), name="review_case_order_idx"
            ),
            models.Index(fields=["subject_type", "subject_id"], name="review_case_subject_idx"),
            models.Index(
                fields=["sla_due_at"],
                condition=models.Q(status="open", escalated_at__isnull=True),
                name="review_case_sla_idx",
            ),
        ]

    def __str__(self):
        from audit import reviews

        try:
            return f"#{self.pk} {reviews.get(self.kind).label}"
        except LookupError:
            return f"#{self.pk} {self.kind}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def sla_breached(self) -> bool:
        return self.is_open and timezone.now() > self.sla_due_at


class ReviewDecision(models.Model):
    class Verdict(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")

    case = models.ForeignKey(ReviewCase, on_delete=models.PROTECT, related_name="decisions")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(_("decision"), max_length=10, choices=Verdict.choices)
    reason = models.TextField(_("reason"))
    decided_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        constraints = [
            models.UniqueConstraint(fields=["case", "officer"], name="review_decision_once_per_officer")
        ]

    def __str__(self):
        return f"{self.verdict} by {self.officer}"


class ReviewCaseSeen(models.Model):
    """An officer opened a case: cases without one are 'new' to that officer in the admin."""

    case = models.ForeignKey(ReviewCase, on_delete=models.CASCADE, related_name="+")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("review case opened by an officer")
        verbose_name_plural = _("review cases opened by officers")
        constraints = [models.UniqueConstraint(fields=["case", "officer"], name="review_case_seen_once")]

    def __str__(self):
        return f"{self.case} seen by {self.officer}"


class NotificationSent(models.Model):
    """One notice delivered, so a retried task never sends it twice."""

    key = models.CharField(max_length=120, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notice sent to officers")
        verbose_name_plural = _("notices sent to officers")

    def __str__(self):
        return self.key


class RiskAlert(models.Model):
    """An anomaly found by a risk rule; one pending (open or acknowledged) alert per rule and subject."""

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        HIGH = "high", _("High")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("case or alert status", "Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    rule = models.CharField(_("rule"), max_length=40)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    subject_type = models.CharField(_("subject type"), max_length=40)
    subject_id = models.CharField(_("subject id"), max_length=64)
    subject_label = models.CharField(_("subject"), max_length=100, help_text=_("Masked"))
    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("borrower"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    window_start = models.DateTimeField(_("window start"), help_text=_("The rule looks back from here"))
    reason = models.CharField(_("reason"), max_length=300)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    # The officer's note when acknowledging (claiming) it, then what they found when resolving:
    # two fields, so resolving never writes over the claim.
    note = models.TextField(_("note"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("risk alert")
        verbose_name_plural = _("risk alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject_type", "subject_id"],
                condition=models.Q(status__in=["open", "acknowledged"]),
                name="risk_alert_one_pending",
            )
        ]
        indexes = [models.Index(fields=["status", "raised_at"], name="risk_alert_queue_idx")]

    def __str__(self):
        from audit import risk

        return f"{risk.describe(self.rule, self.reason)}: {self.subject_label}"


class AuditBlock(models.Model):
    """A sealed run of audit events, chained to the block before it (see ``audit.chain``)."""

    number = models.PositiveIntegerField(_("block"), unique=True)
    first_event_id = models.BigIntegerField(_("first event"))
    last_event_id = models.BigIntegerField(_("last event"))
    event_count = models.PositiveIntegerField(_("events"))
    first_event_at = models.DateTimeField(_("first event time"))
    last_event_at = models.DateTimeField(_("last event time"))
    manifest = models.BinaryField()
    previous_hash = models.BinaryField()
    hash = models.BinaryField()
    sealed_at = models.DateTimeField(_("sealed"), default=timezone.now)

    class Meta:
        verbose_name = _("sealed audit block")
        verbose_name_plural = _("sealed audit blocks")
        ordering = ["-number"]

    def __str__(self):
        return f"block {self.number} ({self.first_event_id}–{self.last_event_id})"

    @property
    def hash_hex(self) -> str:
        return bytes(self.hash).hex()


class AuditArchive(models.Model):
    """Events past retention, exported with a signed manifest and then removed from the table.

    Their blocks stay: verification resumes after ``through_block``, anchored on its hash, and
    checkpoints keep matching. Only ``archive_audit_events`` writes these rows.
    """

    archived_at = models.DateTimeField(_("archived at"), default=timezone.now)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("archived by"), on_delete=models.PROTECT, related_name="+"
    )
    through_block = models.PositiveIntegerField(_("through block"), unique=True)
    anchor_hash = models.BinaryField()
    first_event_id = models.BigIntegerField(_("first event"))
    last_event_id = models.BigIntegerField(_("last event"))
    event_count = models.PositiveIntegerField(_("events"))
    archive_name = models.CharField(_("archive file"), max_length=300)
    archive_sha256 = models.CharField(_("archive SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("audit archive")
        verbose_name_plural = _("audit archives")
        ordering = ["-through_block"]

    def __str__(self):
        return f"events {self.first_event_id}–{self.last_event_id} (blocks to {self.through_block})"


def _export_storage():
    from django.core.files.storage import storages

    return storages["audit_exports"]


class AuditExport(models.Model):
    """An export run as a background job: what was asked, how far it got, the finished archive.

    ``archive`` is set only together with status done, after the whole file is written, so a
    job cut off half way is never offered for download.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", pgettext_lazy("export job status", "Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    spec = models.JSONField(_("what to export"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveBigIntegerField(_("rows"), null=True, blank=True)
    rows_written = models.PositiveBigIntegerField(_("rows written"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    archive = models.FileField(_("archive"), storage=_export_storage, upload_to="%Y/%m/", blank=True)
    archive_sha256 = models.CharField(_("archive SHA-256"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit export")
        verbose_name_plural = _("audit exports")
        ordering = ["-id"]
        permissions = [
            ("export_unmasked", _("Can export personal data unmasked")),
            ("download_any_auditexport", _("Can download exports other staff requested")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(archive=""),
                name="audit_export_done_has_archive",
            )
        ]

    def __str__(self):
        return f"#{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_written * 100 // self.rows_total)
