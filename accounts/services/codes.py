"""One-time SMS codes bound to one operation (DESIGN.md section 5, "Codes").

Refusals are written to the audit trail and committed before the error is raised, so the
refusing function runs in a durable transaction of its own: call it before, never inside,
the transaction of the change the code authorises. A wrong try is never rolled back.
"""

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import SmsCode, SmsCodeSend, User
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.context import current_request
from audit.services import record
from lending.crypto import fingerprint
from lending.db import advisory_xact_lock
from lending.errors import DomainError
from lending.pii import mask_phone

Purpose = SmsCode.Purpose


class CodeSendRefused(DomainError):
    code = "code_send_refused"

    def __init__(self, message, *, retry_at: datetime):
        super().__init__(message)
        self.retry_at = retry_at


class CodeRefused(DomainError):
    code = "code_refused"


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    USED_UP = "used_up"
    EXPIRED = "expired"
    THROTTLED = "throttled"


def _phone_hash(phone) -> str:
    return fingerprint(f"phone:{phone}")


def _next_send_at(phone_hash: str, ip: str | None) -> datetime | None:
    """When the next code may go to this number from this IP, or None for now."""
    now = timezone.now()
    to_number = SmsCodeSend.objects.filter(phone_hash=phone_hash)
    last = to_number.order_by("-sent_at").values_list("sent_at", flat=True).first()
    if last and now - last < timedelta(seconds=settings.SMS_CODE_RESEND_SECONDS):
        return last + timedelta(seconds=settings.SMS_CODE_RESEND_SECONDS)
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if to_number.filter(sent_at__gte=midnight).count() >= settings.SMS_CODE_DAILY_LIMIT:
        return midnight + timedelta(days=1)
    if ip:
        hour = SmsCodeSend.objects.filter(ip=ip, sent_at__gte=now - timedelta(hours=1)).order_by("sent_at")
        times = list(hour.values_list("sent_at", flat=True)[: settings.SMS_CODE_IP_HOURLY_LIMIT])
        if len(times) >= settings.SMS_CODE_IP_HOURLY_LIMIT:
            return times[0] + timedelta(hours=1)
    return None


@dataclass(frozen=True)
class CodeStatus:
    """What a code page may truthfully say: whether a live code was sent for the operation, until
    when it works, and when another may be asked for (None: now)."""

    valid_until: datetime | None
    next_send_at: datetime | None

    @property
    def live(self) -> bool:
        return self.valid_until is not None

    @property
    def next_send_epoch(self) -> int | None:
        """When another code may be asked for, in Unix seconds rounded up (a page's countdown
        must never end before the server allows the next code)."""
        return math.ceil(self.next_send_at.timestamp()) if self.next_send_at else None

    @property
    def wait_seconds(self) -> int:
        if self.next_send_at is None:
            return 0
        return max(0, math.ceil((self.next_send_at - timezone.now()).total_seconds()))


def code_status(*, purpose: str, target, phone) -> CodeStatus:
    device = SmsCode.objects.filter(scope=SmsCode.scope_for(purpose, target)).first()
    context = current_request()
    live = device is not None and device.has_live_code
    return CodeStatus(
        valid_until=device.valid_until if live else None,
        next_send_at=_next_send_at(_phone_hash(phone), context.ip if context else None),
    )


def _wait_message(retry_at: datetime) -> str:
    seconds = int((retry_at - timezone.now()).total_seconds()) + 1
    if seconds <= 120:
        return ngettext(
            "Please wait %(seconds)d second before requesting another code.",
            "Please wait %(seconds)d seconds before requesting another code.",
            seconds,
        ) % {"seconds": seconds}
    when = formats.date_format(timezone.localtime(retry_at), "DATETIME_FORMAT")
    return _("Too many codes were requested. You can request another after %(time)s.") % {"time": when}


def sms_code_send(
    *, purpose: str, target, phone, user: User | None = None, actor: User | None = None, deliver: bool = True
) -> SmsCode:
    """Send a fresh code for the operation ``purpose:target`` to ``phone``.

    Limits: one code per number per minute, SMS_CODE_DAILY_LIMIT per number per day,
    SMS_CODE_IP_HOURLY_LIMIT per client IP per hour; a refusal says when to try again.
    ``deliver=False`` goes through every step, the queued message included, but sends nothing,
    so a request for a number without an account looks exactly like one with, answer time
    included (no enumeration).
    """
    context = current_request()
    ip = context.ip if context else None
    phone_hash = _phone_hash(phone)
    language = user.language if user else translation.get_language()
    refusal = None
    with transaction.atomic(durable=True):
        advisory_xact_lock(f"sms-code:{phone_hash}")
        retry_at = _next_send_at(phone_hash, ip)
        data = {"purpose": purpose, "phone": mask_phone(phone)}
        if retry_at:
            record(action=Action.SMS_CODE_SEND_REFUSED, actor=actor, subject=user, data=data)
            refusal = CodeSendRefused(_wait_message(retry_at), retry_at=retry_at)
        else:
            device, _created = SmsCode.objects.select_for_update().get_or_create(
                scope=SmsCode.scope_for(purpose, target),
                defaults={"purpose": purpose, "user": user, "name": purpose},
            )
            code = device.new_code()
            SmsCodeSend.objects.create(phone_hash=phone_hash, ip=ip, purpose=purpose)
            sms_queue(
                to=phone,
                template="code",
                context={"code": code, "operation": Purpose(purpose).label},
                language=language,
                withhold=not deliver,
            )
            record(action=Action.SMS_CODE_SENT, actor=actor, subject=user, data=data)
    if refusal:
        raise refusal
    return device


def _check(device: SmsCode | None, code: str) -> Outcome:
    if device is None or not device.code_hash:
        return Outcome.USED_UP
    if not device.has_live_code:
        return Outcome.EXPIRED
    if not device.verify_is_allowed()[0]:
        return Outcome.THROTTLED
    if device.verify_token(code):
        return Outcome.ACCEPTED
    return Outcome.USED_UP if not device.code_hash else Outcome.WRONG


def _refusal_message(outcome: Outcome, device: SmsCode | None) -> str:
    if outcome is Outcome.WRONG:
        left = settings.SMS_CODE_MAX_ATTEMPTS - device.wrong_tries
        return ngettext(
            "The code is wrong. %(left)d try left.", "The code is wrong. %(left)d tries left.", left
        ) % {"left": left}
    if outcome is Outcome.THROTTLED:
        return _("Too many wrong codes in a row. Wait a few seconds and try again.")
    if outcome is Outcome.EXPIRED:
        return _("This code has expired. Request a new code.")
    return _("This code can no longer be used. Request a new code.")


def sms_code_verify(*, purpose: str, target, code: str, actor: User | None = None, user: User | None = None):
    """Check a code for the operation ``purpose:target``; the code is used up when accepted.

    Returns the device; raises CodeRefused (after recording it) for a wrong, expired,
    used-up or throttled code. A code for any other operation never matches.
    """
    with transaction.atomic(durable=True):
        device = SmsCode.objects.select_for_update().filter(scope=SmsCode.scope_for(purpose, target)).first()
        outcome = _check(device, str(code))
        accepted = outcome is Outcome.ACCEPTED
        record(
            action=Action.SMS_CODE_VERIFIED if accepted else Action.SMS_CODE_FAILED,
            actor=actor,
            subject=user,
            data={"purpose": purpose, "outcome": outcome.value},
        )
    if not accepted:
        raise CodeRefused(_refusal_message(outcome, device))
    return device


def login_device(user: User) -> SmsCode:
    """The device whose verification marks a session as passed the second factor."""
    device, _created = SmsCode.objects.get_or_create(
        scope=SmsCode.scope_for(Purpose.LOGIN, user.pk),
        defaults={"purpose": Purpose.LOGIN, "user": user, "name": Purpose.LOGIN},
    )
    return device
