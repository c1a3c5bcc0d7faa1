"""Password then SMS code; lockouts counted from the audit trail itself."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import SmsCode, User
from accounts.services.codes import Purpose, sms_code_verify
from audit.actions import Action
from audit.context import current_request
from audit.models import AuditEvent
from audit.services import SubjectRef, record
from lending.crypto import fingerprint
from lending.errors import DomainError
from lending.pii import mask_phone

FAILURES = (Action.LOGIN_PASSWORD_FAILED, Action.LOGIN_LOCKED)
LOGIN_PHONE = "login.phone"  # the subject type of a sign-in with a number no account has


class LoginRefused(DomainError):
    code = "login_refused"


def _window_start() -> datetime:
    return timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _locked_until(failures, limit: int) -> datetime | None:
    """Locked while ``limit`` failures lie within the lockout window; until the oldest ages out."""
    times = list(failures.order_by("-occurred_at").values_list("occurred_at", flat=True)[:limit])
    if len(times) < limit:
        return None
    return times[-1] + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _login_subject(user: User | None, phone) -> User | SubjectRef:
    """Failures count per account; for a number without one, per number, so both lock alike."""
    return user if user else SubjectRef(LOGIN_PHONE, fingerprint(f"phone:{phone}"))


def _account_failures(subject: User | SubjectRef):
    ref = subject if isinstance(subject, SubjectRef) else SubjectRef("accounts.user", str(subject.pk))
    since = _window_start()
    last_success = (
        AuditEvent.objects.filter(action=Action.LOGIN_SUCCEEDED, subject_type=ref.type, subject_id=ref.id)
        .order_by("-id")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if last_success and last_success > since:
        since = last_success
    return AuditEvent.objects.filter(
        action__in=FAILURES, subject_type=ref.type, subject_id=ref.id, occurred_at__gt=since
    )


def _ip_failures(ip: str):
    return AuditEvent.objects.filter(action__in=FAILURES, ip=ip, occurred_at__gt=_window_start())


def _password_matches(user: User | None, password: str) -> bool:
    if user is None:
        User().set_password(password)  # same hashing time as a real check: no enumeration by timing
        return False
    return user.is_active and user.check_password(password)


def _lock_message(until: datetime) -> str:
    when = formats.time_format(timezone.localtime(until), "H:i")
    return _("Too many wrong passwords. Signing in is locked until %(time)s.") % {"time": when}


def password_check(
    *, phone: str | None, password: str, user: User | None = None, step: str = "login"
) -> User:
    """The first factor, with lockouts per account and per IP; returns the borrower.

    An unknown number and a wrong password get the same refusal. The failure that reaches
    LOGIN_MAX_FAILURES (per account) or LOGIN_IP_MAX_FAILURES (per IP) is recorded as the
    lockout; attempts while locked are refused without looking at the password.
    """
    context = current_request()
    ip = context.ip if context else None
    with transaction.atomic(durable=True):
        if user is None:
            user = User.objects.filter(phone=phone, is_staff=False).first()
        subject = _login_subject(user, phone)
        account_failures = _account_failures(subject)
        ip_failures = _ip_failures(ip) if ip else AuditEvent.objects.none()
        locked = [
            until
            for until in (
                _locked_until(account_failures, settings.LOGIN_MAX_FAILURES),
                _locked_until(ip_failures, settings.LOGIN_IP_MAX_FAILURES) if ip else None,
            )
            if until and until > timezone.now()
        ]
        data = {"phone": mask_phone(user.phone if user else phone), "step": step}
        if locked:
            record(action=Action.LOGIN_REFUSED_LOCKED, actor=None, subject=subject, data=data)
            refusal = LoginRefused(_lock_message(max(locked)), code="locked")
        elif not _password_matches(user, password):
            reaches_limit = account_failures.count() + 1 >= settings.LOGIN_MAX_FAILURES or (
                ip and ip_failures.count() + 1 >= settings.LOGIN_IP_MAX_FAILURES
            )
            action = Action.LOGIN_LOCKED if reaches_limit else Action.LOGIN_PASSWORD_FAILED
            record(action=action, actor=None, subject=subject, data=data)
            refusal = LoginRefused(_("The mobile number or password is wrong."), code="wrong")
        else:
            refusal = None
    if refusal:
        raise refusal
    return user


def login_second_factor_verify(*, user: User, code: str) -> SmsCode:
    """The second factor: the login code. Returns the device that verifies the session."""
    device = sms_code_verify(purpose=Purpose.LOGIN, target=user.pk, code=code, user=user)
    with transaction.atomic():
        record(action=Action.LOGIN_SUCCEEDED, actor=user, subject=user)
    return device


@transaction.atomic
def reauth_record(*, actor: User) -> None:
    """The borrower typed the password again before a sensitive step."""
    record(action=Action.REAUTH_SUCCEEDED, actor=actor, subject=actor)


@transaction.atomic
def logout_record(*, actor: User) -> None:
    record(action=Action.LOGOUT, actor=actor, subject=actor)
