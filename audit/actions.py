"""The one list of audited actions. Each service writes exactly one of these per state change."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    STAFF_CREATE = "staff.create", _("Staff account created")
    STAFF_BACKUP_CODES_RESET = "staff.backup_codes_reset", _("Staff backup codes replaced")
