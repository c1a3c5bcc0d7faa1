from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from lending.pii import mask_phone


class UserManager(BaseUserManager):
    """Low-level constructors; services (accounts.services) are the way to create users."""

    use_in_migrations = True

    def create_borrower(self, phone, password=None, **fields):
        user = self.model(phone=phone, is_staff=False, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_staff(self, username, password=None, **fields):
        user = self.model(username=self.model.normalize_username(username), is_staff=True, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **fields):
        return self.create_staff(username, password, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A borrower (identified by mobile number) or a staff member (identified by username)."""

    phone = PhoneNumberField(
        _("mobile number"), unique=True, null=True, blank=True, help_text=_("E.164, e.g. +8613800138000")
    )
    username = models.CharField(
        _("username"),
        max_length=150,
        unique=True,
        null=True,
        blank=True,
        validators=[UnicodeUsernameValidator()],
    )
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    # Password hashes and login times stay out of the history: one is secret, the other noise.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_staff=False, phone__isnull=False)
                | models.Q(is_staff=True, username__isnull=False),
                name="user_borrower_has_phone_staff_has_username",
            ),
        ]

    def __str__(self):
        # Shown in the admin and its log: borrowers' numbers stay masked there.
        return self.username if self.is_staff else mask_phone(self.phone)

    def get_username(self):
        return self.username if self.is_staff else str(self.phone)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)
