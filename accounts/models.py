import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_otp.models import Device, ThrottlingMixin
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from lending.crypto import decrypt, fingerprint
from lending.pii import mask_id_number, mask_phone


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
    email = models.EmailField(_("email"), blank=True, help_text=_("Staff: where review notices go"))
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    frozen_at = models.DateTimeField(_("frozen"), null=True, blank=True)
    frozen_reason = models.CharField(_("reason for the freeze"), max_length=200, blank=True)
    # Raising it ends every session of the user (it is part of the session auth hash).
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    # Kept by accounts.services.notifications in the transaction that changes the inbox, so
    # every page's header shows it from the user row already loaded, without a query.
    unread_notifications = models.PositiveIntegerField(default=0, editable=False)

    # Password hashes and login times stay out of the history: one is secret, the other noise
    # (as is the unread count).
    history = HistoricalRecords(excluded_fields=["password", "last_login", "unread_notifications"])

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("reveal_personal_data", _("Can reveal a borrower's full phone number, name and ID number")),
            ("unlock_user", _("Can lift a sign-in lock-out")),
        ]
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

    def _get_session_auth_hash(self, secret=None):
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def is_borrower(self) -> bool:
        return not self.is_staff

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class SmsCode(ThrottlingMixin, Device):
    """The one-time SMS codes of one operation: a purpose and a target, e.g. "unbind card 42".

    A django-otp device: its throttling slows guessing, and the login code's device marks a
    session verified (``request.user.is_verified()``). One row per operation (``scope``);
    each new code replaces the last. Codes are stored only as keyed hashes, and the scope
    only as a fingerprint, so a database dump gives neither live codes nor phone numbers.
    """

    class Purpose(models.TextChoices):
        REGISTER = "register", _("registration")
        LOGIN = "login", _("login")
        PASSWORD_RESET = "password_reset", _("password reset")
        PHONE_CHANGE_OLD = "phone_change_old", _("phone change (current number)")
        PHONE_CHANGE_NEW = "phone_change_new", _("phone change (new number)")
        CARD_REPAYMENT = "card_repayment", _("choosing the repayment card")
        CARD_UNBIND = "card_unbind", _("unbinding a card")
        CARD_SWAP = "card_swap", _("swapping the repayment card")
        CARDS_UNBIND_ALL = "cards_unbind_all", _("unbinding all cards")
        LOAN_REPAY = "loan_repay", _("repaying installments")
        LOAN_PAYOFF = "loan_payoff", _("paying a loan off early")
        SUPPORT_REQUEST = "support_request", _("a help request")
        DATA_COPY = "data_copy", _("a copy of your personal data")
        ACCOUNT_CLOSE = "account_close", _("closing your account")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    scope = models.CharField(max_length=64, unique=True, help_text="HMAC of purpose:target")
    code_hash = models.CharField(max_length=64, blank=True, help_text="HMAC of the live code; empty if none")
    valid_until = models.DateTimeField(null=True, blank=True)
    wrong_tries = models.PositiveSmallIntegerField(default=0, help_text="Wrong tries on the live code")

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")

    @staticmethod
    def scope_for(purpose: str, target) -> str:
        return fingerprint(f"{purpose}:{target}")

    def _code_hash(self, code: str) -> str:
        return fingerprint(f"{self.scope}:{code}")

    def get_throttle_factor(self):
        return settings.SMS_CODE_THROTTLE_FACTOR

    def new_code(self) -> str:
        """Replace any live code with a fresh one and return it (the caller sends it)."""
        code = f"{secrets.randbelow(10**6):06d}"
        self.code_hash = self._code_hash(code)
        self.valid_until = timezone.now() + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS)
        self.wrong_tries = 0
        self.throttle_reset(commit=False)
        self.save()
        return code

    @property
    def has_live_code(self) -> bool:
        return bool(self.code_hash) and self.valid_until is not None and timezone.now() < self.valid_until

    def verify_token(self, token):
        """django-otp's verification: single use, expiring, at most SMS_CODE_MAX_ATTEMPTS wrong tries."""
        allowed, _details = self.verify_is_allowed()
        if not allowed or not self.has_live_code:
            return False
        if hmac.compare_digest(self.code_hash, self._code_hash(str(token))):
            self.code_hash, self.valid_until, self.wrong_tries = "", None, 0
            self.throttle_reset(commit=False)
            self.save()
            return True
        self.wrong_tries += 1
        if self.wrong_tries >= settings.SMS_CODE_MAX_ATTEMPTS:
            self.code_hash = ""  # used up: only a new code helps
        self.throttle_increment(commit=False)
        self.save()
        return False


class SmsCodeSend(models.Model):
    """One code sent: what the per-number and per-IP send limits count."""

    phone_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    purpose = models.CharField(max_length=32, choices=SmsCode.Purpose.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["phone_hash", "sent_at"], name="sms_send_phone_idx"),
            models.Index(fields=["ip", "sent_at"], name="sms_send_ip_idx"),
        ]

    def __str__(self):
        return f"{self.purpose} at {self.sent_at:%Y-%m-%d %H:%M:%S}"


class SmsMessage(models.Model):
    """A text message to send, queued in the transaction that wants it (see accounts.sms).

    Recipient and text are encrypted: the text may hold a live code.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", pgettext_lazy("text message status", "Failed")
        WITHHELD = "withheld", _("Not sent: no account has this number")

    to_encrypted = models.TextField()
    to_masked = models.CharField(_("to"), max_length=32)
    template = models.CharField(_("template"), max_length=64)
    body_encrypted = models.TextField()
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.template} → {self.to_masked}"

    @property
    def to(self) -> str:
        return decrypt(self.to_encrypted)

    @property
    def body(self) -> str:
        return decrypt(self.body_encrypted)


class Consent(models.Model):
    """A borrower's acceptance of one version of a policy text, with the text's hash."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("borrower"),
        on_delete=models.PROTECT,
        related_name="consents",
    )
    document = models.CharField(_("document"), max_length=40)
    version = models.CharField(_("version"), max_length=20)
    language = models.CharField(_("language"), max_length=10)
    text_sha256 = models.CharField(_("SHA-256 of the text"), max_length=64)
    accepted_at = models.DateTimeField(_("accepted"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self):
        return f"{self.document} {self.version}"


class Identity(models.Model):
    """A borrower's verified real name and resident ID number (one per account and per person)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("borrower"),
        on_delete=models.PROTECT,
        related_name="identity",
    )
    real_name = models.CharField(_("real name"), max_length=40)
    id_number_encrypted = models.TextField()
    id_number_hash = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    birth_date = models.DateField(_("birth date"))
    verified_at = models.DateTimeField(_("verified"), default=timezone.now)

    history = HistoricalRecords(excluded_fields=["id_number_encrypted"])

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")

    def __str__(self):
        return self.id_number_masked

    @property
    def id_number(self) -> str:
        return decrypt(self.id_number_encrypted)

    @staticmethod
    def hash_of(id_number: str) -> str:
        return fingerprint(f"id:{id_number.upper()}")

    @staticmethod
    def masked(id_number: str) -> str:
        return mask_id_number(id_number.upper())


class PhoneChange(models.Model):
    """A borrower changing the bound number: with the old phone at hand (DESIGN.md path a), or
    with it lost, through a review case (path b)."""

    class Path(models.TextChoices):
        OLD_PHONE = "old_phone", _("With the old phone")
        LOST_PHONE = "lost_phone", _("Old phone lost (reviewed)")

    class Status(models.TextChoices):
        STARTED = "started", _("Waiting for the code sent to the current number")
        OLD_CONFIRMED = "old_confirmed", _("Waiting for the new number")
        NEW_SENT = "new_sent", _("Waiting for the code sent to the new number")
        FACE_CHECK = "face_check", _("Waiting for the face check")
        IN_REVIEW = "in_review", _("Waiting for a compliance officer")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.STARTED, Status.OLD_CONFIRMED, Status.NEW_SENT, Status.FACE_CHECK)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("borrower"),
        on_delete=models.PROTECT,
        related_name="phone_changes",
    )
    path = models.CharField(_("path"), max_length=16, choices=Path.choices, default=Path.OLD_PHONE)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.STARTED)
    old_phone_masked = models.CharField(_("old number"), max_length=32)
    new_phone_encrypted = models.TextField(blank=True)
    new_phone_masked = models.CharField(_("new number"), max_length=32, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["new_phone_encrypted"])

    class Meta:
        verbose_name = _("phone change")
        verbose_name_plural = _("phone changes")
        indexes = [models.Index(fields=["user", "status", "completed_at"], name="phone_change_user_idx")]

    def __str__(self):
        return f"{self.old_phone_masked} → {self.new_phone_masked or '?'}"

    @property
    def new_phone(self) -> str:
        return decrypt(self.new_phone_encrypted) if self.new_phone_encrypted else ""

    @property
    def is_open(self) -> bool:
        deadline = self.started_at + timedelta(minutes=settings.PHONE_CHANGE_TTL_MINUTES)
        return self.status in self.OPEN and timezone.now() < deadline


class FaceCheck(models.Model):
    """One face liveness check at the identity provider, compared with the ID photo.

    Only the result is kept (pass or not, the similarity score, the provider's request ids):
    never an image or a video. The biometric consent given just before it is linked.
    """

    class Purpose(models.TextChoices):
        PHONE_LOST = "phone_lost", _("Lost-phone request")
        STEP_UP = "step_up", _("Card change held for review")

    class Status(models.TextChoices):
        PENDING = "pending", _("Started, not finished")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Did not pass")
        UNFINISHED = "unfinished", _("Left unfinished")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="face_checks")
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    phone_change = models.ForeignKey(
        PhoneChange, on_delete=models.PROTECT, null=True, blank=True, related_name="face_checks"
    )
    review_case = models.ForeignKey(
        "audit.ReviewCase",
        verbose_name=_("review case"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Step-up: the case the borrower's face check would clear"),
    )
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    biz_token = models.CharField(max_length=64, unique=True)
    liveness_url = models.URLField(max_length=1024)
    similarity = models.DecimalField(_("similarity"), max_digits=5, decimal_places=2, null=True, blank=True)
    start_request_id = models.CharField(_("provider request id (start)"), max_length=64)
    result_request_id = models.CharField(_("provider request id (result)"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    class Meta:
        verbose_name = _("face check")
        verbose_name_plural = _("face checks")
        indexes = [
            models.Index(fields=["phone_change", "status"], name="face_check_change_idx"),
            models.Index(fields=["review_case", "status"], name="face_check_case_idx"),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()}: {self.get_status_display()}"


class PhoneCheck(models.Model):
    """The carrier's answer whether a mobile number is registered to the borrower's name and ID
    number (three elements), kept as evidence: on identity verification (the account phone) and
    on a lost-phone request (the new number, shown on its case)."""

    class Purpose(models.TextChoices):
        IDENTITY = "identity", _("Identity verification")
        PHONE_CHANGE = "phone_change", _("Phone change")
        PHONE_LOST = "phone_lost", _("Lost-phone request")
        ACCOUNT_PHONE = "account_phone", _("Account phone asked again")

    class Outcome(models.TextChoices):
        MATCH = "match", _("In the borrower's name")
        MISMATCH = "mismatch", _("Not in the borrower's name")
        NOT_FOUND = "not_found", _("No record at the carrier")
        UNAVAILABLE = "unavailable", _("Not checked: the provider did not answer")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="phone_checks")
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    phone_change = models.ForeignKey(
        PhoneChange, on_delete=models.PROTECT, null=True, blank=True, related_name="phone_checks"
    )
    phone_masked = models.CharField(_("number"), max_length=32)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    provider_request_id = models.CharField(_("provider request id"), max_length=64, blank=True)
    checked_at = models.DateTimeField(_("checked"), default=timezone.now)

    class Meta:
        verbose_name = _("carrier check")
        verbose_name_plural = _("carrier checks")

    def __str__(self):
        return f"{self.phone_masked}: {self.get_outcome_display()}"


class Notification(models.Model):
    """An in-app message to a borrower; the text is rendered in the reader's language."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_idx"),
            models.Index(
                fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self):
        return self.kind
