"""Password then second factor; lockouts counted from the audit trail itself.

Both doors share one lockout: borrowers sign in to the portal with their mobile number
(``password_check``), staff to the back office with their username (``staff_password_check``).
Failures count per account; an identifier no account has counts per fingerprint of what was
typed (the same hashing time as a real check), so known and unknown identifiers lock alike.

Failures also count per client IP, one count for both doors: an address guessing at either
door is the same attacker, separate counts would only double its guesses, and the lock it can
cause for others at its address is the same either way.

A sign-in (both factors) or an administrator's lifting of the lock-out (``login_lockout_lift``)
ends the count: failures before it no longer count.
"""

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
from lending.db import advisory_xact_lock
from lending.errors import DomainError
from lending.pii import mask_phone

FAILURES = (Action.LOGIN_PASSWORD_FAILED, Action.LOGIN_LOCKED)
RESETS = (Action.LOGIN_SUCCEEDED, Action.LOGIN_UNLOCKED)
LOGIN_PHONE = "login.phone"  # the subject type of a sign-in with a number no account has
LOGIN_USERNAME = "login.username"  # ... of a back-office sign-in with a username no staff account has
BACK_OFFICE = "back_office"


class LoginRefused(DomainError):
    code = "login_refused"


class LockoutLiftRefused(DomainError):
    code = "lockout_lift_refused"


def _window_start() -> datetime:
    return timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _locked_until(failures, limit: int) -> datetime | None:
    """Locked while ``limit`` failures lie within the lockout window; until the oldest ages out."""
    times = list(failures.order_by("-occurred_at").values_list("occurred_at", flat=True)[:limit])
    if len(times) < limit:
        return None
    until = times[-1] + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    return until if until > timezone.now() else None


def _ref(subject: User | SubjectRef) -> SubjectRef:
    return subject if isinstance(subject, SubjectRef) else SubjectRef("accounts.user", str(subject.pk))


def _serialise(subject: User | SubjectRef) -> None:
    """Checks of one account wait for each other, so simultaneous guesses cannot all slip in
    under the limit before any of them is counted."""
    ref = _ref(subject)
    advisory_xact_lock(f"login:{ref.type}:{ref.id}")


def _account_failures(subject: User | SubjectRef):
    ref = _ref(subject)
    since = _window_start()
    last_reset = (
        AuditEvent.objects.filter(action__in=RESETS, subject_type=ref.type, subject_id=ref.id)
        .order_by("-id")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if last_reset and last_reset > since:
        since = last_reset
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


def _password_step(
    *, user: User | None, subject: User | SubjectRef, password: str, data: dict, wrong_message: str
) -> None:
    """The lockout core of both doors. The failure that reaches LOGIN_MAX_FAILURES (per account)
    or LOGIN_IP_MAX_FAILURES (per IP) is recorded as the lockout; attempts while locked are
    refused (code "locked") and recorded without looking at the password. The events are
    committed before the refusal is raised."""
    context = current_request()
    ip = context.ip if context else None
    with transaction.atomic(durable=True):
        _serialise(subject)
        account_failures = _account_failures(subject)
        ip_failures = _ip_failures(ip) if ip else AuditEvent.objects.none()
        locked = [
            until
            for until in (
                _locked_until(account_failures, settings.LOGIN_MAX_FAILURES),
                _locked_until(ip_failures, settings.LOGIN_IP_MAX_FAILURES) if ip else None,
            )
            if until
        ]
        if locked:
            record(action=Action.LOGIN_REFUSED_LOCKED, actor=None, subject=subject, data=data)
            refusal = LoginRefused(_lock_message(max(locked)), code="locked")
            refusal.retry_at = max(locked)  # the app API answers 429 with Retry-After
        elif not _password_matches(user, password):
            reaches_limit = account_failures.count() + 1 >= settings.LOGIN_MAX_FAILURES or (
                ip and ip_failures.count() + 1 >= settings.LOGIN_IP_MAX_FAILURES
            )
            action = Action.LOGIN_LOCKED if reaches_limit else Action.LOGIN_PASSWORD_FAILED
            record(action=action, actor=None, subject=subject, data=data)
            refusal = LoginRefused(wrong_message, code="wrong")
        else:
            refusal = None
    if refusal:
        raise refusal


def password_check(
    *, phone: str | None, password: str, user: User | None = None, step: str = "login"
) -> User:
    """A borrower's first factor, with the lockouts; returns the borrower.

    An unknown number and a wrong password get the same refusal.
    """
    if user is None:
        user = User.objects.filter(phone=phone, is_staff=False).first()
    subject = user if user else SubjectRef(LOGIN_PHONE, fingerprint(f"phone:{phone}"))
    data = {"phone": mask_phone(user.phone if user else phone), "step": step}
    # Signed in already (re-authentication, password change): only the password was asked.
    wrong = _("The mobile number or password is wrong.") if phone else _("The password is wrong.")
    _password_step(user=user, subject=subject, password=password, data=data, wrong_message=wrong)
    return user


def staff_password_check(*, username: str, password: str) -> User:
    """The back office's first factor, with the same lockouts; returns the active staff account.

    An unknown username, a borrower's and a wrong password get the same refusal. The audit
    data names the staff account, never an unknown username: what was typed there may be a
    password or a phone number.
    """
    user = User.objects.filter(username=username, is_staff=True).first()
    subject = user if user else SubjectRef(LOGIN_USERNAME, fingerprint(f"username:{username}"))
    data = {"username": user.username, "step": BACK_OFFICE} if user else {"step": BACK_OFFICE}
    _password_step(
        user=user,
        subject=subject,
        password=password,
        data=data,
        wrong_message=_("The username or password is wrong."),
    )
    return user


def login_second_factor_verify(*, user: User, code: str) -> SmsCode:
    """The second factor: the login code. Returns the device that verifies the session."""
    device = sms_code_verify(purpose=Purpose.LOGIN, target=user.pk, code=code, user=user)
    with transaction.atomic():
        record(action=Action.LOGIN_SUCCEEDED, actor=user, subject=user)
    return device


@transaction.atomic
def staff_login_record(*, user: User, factor: str) -> None:
    """A staff member passed both factors (``factor``: "totp" or "backup_code"): signed in."""
    record(
        action=Action.LOGIN_SUCCEEDED,
        actor=user,
        subject=user,
        data={"username": user.username, "step": BACK_OFFICE, "factor": factor},
    )


@transaction.atomic
def staff_second_factor_failure_record(*, user: User, factor: str, reason: str) -> None:
    """A staff member's right password was followed by a wrong or throttled code (``reason``:
    "wrong_code" or "throttled"); django-otp's throttle on the device does the limiting."""
    record(
        action=Action.LOGIN_SECOND_FACTOR_FAILED,
        actor=None,
        subject=user,
        data={"username": user.username, "step": BACK_OFFICE, "factor": factor, "reason": reason},
    )


@transaction.atomic
def login_lockout_lift(*, actor: User, user: User) -> None:
    """Lift ``user``'s sign-in lock-out (borrower or staff): the failures before it no longer count.

    Only the account's lock: a lock of an IP belongs to an address, not to anyone's account,
    and ends by itself. An account that is not locked is refused, and nothing is recorded.
    """
    _serialise(user)
    if _locked_until(_account_failures(user), settings.LOGIN_MAX_FAILURES) is None:
        raise LockoutLiftRefused(_("This account's sign-in is not locked."), code="not_locked")
    record(action=Action.LOGIN_UNLOCKED, actor=actor, subject=user)


@transaction.atomic
def reauth_record(*, actor: User) -> None:
    """The borrower typed the password again before a sensitive step."""
    record(action=Action.REAUTH_SUCCEEDED, actor=actor, subject=actor)


@transaction.atomic
def logout_record(*, actor: User) -> None:
    record(action=Action.LOGOUT, actor=actor, subject=actor)
