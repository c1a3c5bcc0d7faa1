"""A borrower's rights under PIPL: consent withdrawals, copies of their data, account closure."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from lending.crypto import decrypt


class ConsentWithdrawal(models.Model):
    """A consent taken back (PIPL art. 15). The consent row itself stays, as proof of what was agreed."""

    consent = models.OneToOneField(
        "accounts.Consent", verbose_name=_("consent"), on_delete=models.PROTECT, related_name="withdrawal"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent withdrawal")
        verbose_name_plural = _("consent withdrawals")

    def __str__(self):
        return f"{self.consent} withdrawn"


def _copy_storage():
    from django.core.files.storage import storages

    return storages["data_copies"]


class DataCopy(models.Model):
    """A copy of a borrower's personal data (PIPL art. 45), built by a task, downloaded once."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_copies")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    sections_total = models.PositiveSmallIntegerField(_("sections"), default=0)
    sections_done = models.PositiveSmallIntegerField(_("sections done"), default=0)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("downloaded"), null=True, blank=True)
    archive = models.FileField(storage=_copy_storage, upload_to="%Y/%m/", blank=True)
    archive_sha256 = models.CharField(_("archive SHA-256"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("copy of personal data")
        verbose_name_plural = _("copies of personal data")
        ordering = ["-id"]

    def __str__(self):
        return f"#{self.pk}"

    @property
    def percent(self) -> int:
        if self.status in (self.Status.DONE, self.Status.DOWNLOADED):
            return 100
        if not self.sections_total:
            return 0
        return min(99, self.sections_done * 100 // self.sections_total)

    @property
    def downloadable(self) -> bool:
        return (
            self.status == self.Status.DONE
            and self.expires_at is not None
            and timezone.now() < self.expires_at
        )


class AccountClosure(models.Model):
    """Closing an account (注销): asked, a cooling-off period, then closed.

    Once closed, what the law keeps (AML identification: number, name, ID number) moves here,
    encrypted and restricted: only officers see this record, and only those who may reveal
    personal data read it in full (audited). The account itself keeps masked values only.
    """

    class Status(models.TextChoices):
        COOLING_OFF = "cooling_off", _("Cooling-off period")
        CANCELLED = "cancelled", _("Cancelled")
        CLOSED = "closed", _("Closed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="closures")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.COOLING_OFF)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    effective_at = models.DateTimeField(_("takes effect"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    retain_until = models.DateTimeField(_("legal retention until"), null=True, blank=True)
    phone_encrypted = models.TextField(blank=True)
    real_name_encrypted = models.TextField(blank=True)
    id_number_encrypted = models.TextField(blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    summary = models.JSONField(_("what was done"), default=dict, blank=True)

    history = HistoricalRecords(
        excluded_fields=["phone_encrypted", "real_name_encrypted", "id_number_encrypted", "id_number_hash"]
    )

    class Meta:
        verbose_name = _("account closure")
        verbose_name_plural = _("account closures")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="cooling_off"), name="account_closure_one_pending"
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"

    def restricted(self, field: str) -> str:
        value = getattr(self, f"{field}_encrypted")
        return decrypt(value) if value else ""
