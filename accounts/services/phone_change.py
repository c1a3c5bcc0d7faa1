"""Changing the bound phone with the old phone at hand (DESIGN.md section 5, path a).

Password again (the view asks), a code to the current number, the new number, a code to
the new number; then the number changes, every other session ends, the old number is told
by SMS and the borrower gets an in-app notice. With PHONE_CHANGE_CARRIER_CHECK the carrier is
asked whether the new number is in the borrower's name (three elements); when it does not
say yes (another name, no record, no answer), the change goes to a compliance officer with
the carrier's answer on the case, and the number changes only if approved.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Identity, PhoneChange, PhoneCheck, User
from accounts.services.codes import Purpose, sms_code_send, sms_code_verify
from accounts.services.freeze import ensure_not_frozen
from accounts.services.notifications import notification_create
from accounts.services.phone_check import identity_carrier_check, phone_check_record
from accounts.services.sms import sms_queue
from audit import risk
from audit.actions import Action
from audit.context import current_request
from audit.models import AuditEvent, ReviewCase
from audit.services import record, review_case_open
from lending.crypto import encrypt
from lending.db import advisory_xact_lock
from lending.errors import DomainError
from lending.pii import mask_phone


class PhoneChangeRefused(DomainError):
    code = "phone_change_refused"


PHONE_OTHER_NAME = "phone_other_name"  # the review kind of a new number not confirmed in the borrower's name
NOT_IN_OWN_NAME = gettext_lazy("The carrier did not confirm the new number is in the borrower's name")
risk.register_reason("phone_not_in_own_name", NOT_IN_OWN_NAME)


# Entering a new number, on either path: each texts the number typed.
NEW_NUMBER_ENTERED = (Action.PHONE_CHANGE_NEW_NUMBER, Action.PHONE_LOST_STARTED)


def _limit_reached_until(user: User) -> datetime | None:
    """When the next change is allowed, if PHONE_CHANGE_LIMIT changes already lie in the window."""
    window = timedelta(days=settings.PHONE_CHANGE_WINDOW_DAYS)
    recent = list(
        PhoneChange.objects.filter(
            user=user, status=PhoneChange.Status.COMPLETED, completed_at__gte=timezone.now() - window
        )
        .order_by("-completed_at")
        .values_list("completed_at", flat=True)[: settings.PHONE_CHANGE_LIMIT]
    )
    if len(recent) < settings.PHONE_CHANGE_LIMIT:
        return None
    return recent[-1] + window


def ensure_within_limit(user: User) -> None:
    until = _limit_reached_until(user)
    if until:
        raise PhoneChangeRefused(
            _(
                "You have changed your number %(limit)d times in %(days)d days. "
                "You can change it again after %(date)s."
            )
            % {
                "limit": settings.PHONE_CHANGE_LIMIT,
                "days": settings.PHONE_CHANGE_WINDOW_DAYS,
                "date": formats.date_format(timezone.localtime(until), "DATE_FORMAT"),
            },
            code="limit",
        )


def _locked_open_change(actor: User, change_id: int, *statuses) -> PhoneChange:
    change = PhoneChange.objects.select_for_update().get(pk=change_id, user=actor)
    if not change.is_open:
        raise PhoneChangeRefused(_("This phone change has expired. Start again."), code="expired")
    if change.status not in statuses:
        raise PhoneChangeRefused(_("This step is already done. Continue where you are."), code="wrong_step")
    return change


def new_number_target(change: PhoneChange) -> str:
    return f"{change.pk}:{change.new_phone}"


def same_number_refusal(user: User, new_phone: str) -> PhoneChangeRefused | None:
    if new_phone == str(user.phone):
        return PhoneChangeRefused(_("This is already your number."), code="same")
    return None


def number_taken_refusal(new_phone: str) -> PhoneChangeRefused | None:
    """Refuses a number bound to another account. Asked only once a code sent to the number came
    back, so only the number's holder learns that it has an account (no enumeration)."""
    if User.objects.filter(phone=new_phone).exists():
        return _taken()
    return None


def _taken() -> PhoneChangeRefused:
    return PhoneChangeRefused(
        _("This number cannot be bound to your account. If it is yours, contact customer service."),
        code="taken",
    )


def number_refusal(user: User, new_phone: str) -> PhoneChangeRefused | None:
    """Why ``new_phone`` cannot become the user's number, or None. Never says whose it is."""
    return same_number_refusal(user, new_phone) or number_taken_refusal(new_phone)


def new_number_limit_refusal(user: User) -> PhoneChangeRefused | None:
    """Each new number entered (both paths) texts whatever number was typed: at most
    PHONE_NEW_NUMBERS_PER_DAY per account in 24 hours and PHONE_NEW_NUMBERS_PER_IP_HOUR per
    client IP (the request's) in an hour, counted from the audit trail."""
    context = current_request()
    ip = context.ip if context else None
    now = timezone.now()
    entered = AuditEvent.objects.filter(action__in=NEW_NUMBER_ENTERED)
    by_account = entered.filter(
        Q(actor=user) | Q(subject_type="accounts.user", subject_id=str(user.pk)),
        occurred_at__gte=now - timedelta(days=1),
    )
    limits = [(by_account, settings.PHONE_NEW_NUMBERS_PER_DAY, timedelta(days=1))]
    if ip:
        by_ip = entered.filter(ip=ip, occurred_at__gte=now - timedelta(hours=1))
        limits.append((by_ip, settings.PHONE_NEW_NUMBERS_PER_IP_HOUR, timedelta(hours=1)))
    retry_at = []
    for events, limit, window in limits:
        times = list(events.order_by("-occurred_at").values_list("occurred_at", flat=True)[:limit])
        if len(times) >= limit:
            retry_at.append(times[-1] + window)
    if not retry_at:
        return None
    when = formats.date_format(timezone.localtime(max(retry_at)), "DATETIME_FORMAT")
    return PhoneChangeRefused(
        _("Too many new numbers were entered. You can enter another after %(time)s.") % {"time": when},
        code="too_many_numbers",
    )


def phone_number_apply(*, user: User, change: PhoneChange, reason: str) -> User:
    """Bind the change's new number (both paths): every other session ends, the old number
    is told by SMS, the borrower gets an in-app notice. Runs in the caller's transaction
    with ``user`` and ``change`` locked."""
    old_phone, new_phone = str(user.phone), change.new_phone
    advisory_xact_lock(f"register:{new_phone}")
    user.phone = new_phone
    user.session_epoch += 1
    user._change_reason = reason
    user.save()
    change.status = PhoneChange.Status.COMPLETED
    change.completed_at = timezone.now()
    change._change_reason = "completed"
    change.save()
    old, new = mask_phone(old_phone), mask_phone(new_phone)
    record(action=Action.PHONE_CHANGED, actor=user, subject=user, data={"old": old, "new": new})
    sms_queue(to=old_phone, template="phone_changed_old", context={"new": new}, language=user.language)
    notification_create(
        user=user, kind="phone_changed", params={"old": old, "new": new}, link="/accounts/security/"
    )
    return user


def phone_change_start(*, actor: User) -> PhoneChange:
    """Open a phone change and send a code to the current number (earlier open ones are cancelled)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        ensure_not_frozen(user)
        ensure_within_limit(user)
        in_review = PhoneChange.objects.filter(user=user, status=PhoneChange.Status.IN_REVIEW).first()
        if in_review and in_review.path == PhoneChange.Path.LOST_PHONE:
            raise PhoneChangeRefused(
                _(
                    "Your lost-phone request is waiting for review. "
                    "Withdraw it first to change the number yourself."
                ),
                code="in_review",
            )
        if in_review:
            raise PhoneChangeRefused(
                _("Your phone change is waiting for review. You can start another once it is decided."),
                code="in_review",
            )
        for earlier in PhoneChange.objects.select_for_update().filter(user=user, status__in=PhoneChange.OPEN):
            earlier.status = PhoneChange.Status.CANCELLED
            earlier._change_reason = "replaced by a new phone change"
            earlier.save()
        change = PhoneChange(user=user, old_phone_masked=user.masked_phone)
        change._change_reason = "started"
        change.save()
        record(action=Action.PHONE_CHANGE_STARTED, actor=actor, subject=change)
    phone_change_send_code(actor=actor, change=change)
    return change


def phone_change_send_code(*, actor: User, change: PhoneChange) -> None:
    """(Re)send the code of the current step: to the current number, or to the new one."""
    if change.status == PhoneChange.Status.NEW_SENT:
        sms_code_send(
            purpose=Purpose.PHONE_CHANGE_NEW,
            target=new_number_target(change),
            phone=change.new_phone,
            user=actor,
            actor=actor,
        )
    else:
        sms_code_send(
            purpose=Purpose.PHONE_CHANGE_OLD, target=change.pk, phone=actor.phone, user=actor, actor=actor
        )


def phone_change_confirm_old(*, actor: User, change: PhoneChange, code: str) -> PhoneChange:
    """The code sent to the current number proves the borrower still holds it."""
    _locked_open_change_readonly(actor, change.pk, PhoneChange.Status.STARTED)
    sms_code_verify(purpose=Purpose.PHONE_CHANGE_OLD, target=change.pk, code=code, actor=actor, user=actor)
    with transaction.atomic():
        change = _locked_open_change(actor, change.pk, PhoneChange.Status.STARTED)
        change.status = PhoneChange.Status.OLD_CONFIRMED
        change._change_reason = "current number confirmed"
        change.save()
        record(action=Action.PHONE_CHANGE_OLD_CONFIRMED, actor=actor, subject=change)
    return change


def _locked_open_change_readonly(actor: User, change_id: int, *statuses) -> None:
    """Refuse a code for a step that is not current, before the code is spent."""
    with transaction.atomic():
        _locked_open_change(actor, change_id, *statuses)


def phone_change_set_new(*, actor: User, change: PhoneChange, new_phone: str) -> PhoneChange:
    """Take the new number and send it a code. Whether another account holds the number is
    answered only after that code comes back (``phone_change_confirm_new``)."""
    refusal = None
    with transaction.atomic(durable=True):
        change = _locked_open_change(
            actor, change.pk, PhoneChange.Status.OLD_CONFIRMED, PhoneChange.Status.NEW_SENT
        )
        data = {"new": mask_phone(new_phone)}
        refusal = same_number_refusal(actor, new_phone) or new_number_limit_refusal(actor)
        if refusal:
            record(
                action=Action.PHONE_CHANGE_REFUSED,
                actor=actor,
                subject=change,
                data={**data, "why": refusal.code},
            )
        else:
            change.new_phone_encrypted = encrypt(new_phone)
            change.new_phone_masked = mask_phone(new_phone)
            change.status = PhoneChange.Status.NEW_SENT
            change._change_reason = "new number entered"
            change.save()
            record(action=Action.PHONE_CHANGE_NEW_NUMBER, actor=actor, subject=change, data=data)
    if refusal:
        raise refusal
    phone_change_send_code(actor=actor, change=change)
    return change


def phone_change_confirm_new(*, actor: User, change: PhoneChange, code: str) -> User:
    """The code sent to the new number completes the change, unless another account holds it,
    or sends it to review when the carrier does not confirm the number is in the borrower's
    name (then the number is unchanged and the change is ``in_review``)."""
    _locked_open_change_readonly(actor, change.pk, PhoneChange.Status.NEW_SENT)
    change = PhoneChange.objects.get(pk=change.pk, user=actor)
    sms_code_verify(
        purpose=Purpose.PHONE_CHANGE_NEW, target=new_number_target(change), code=code, actor=actor, user=actor
    )
    refusal = number_taken_refusal(change.new_phone)
    if refusal:
        with transaction.atomic():
            data = {"new": change.new_phone_masked, "why": refusal.code}
            record(action=Action.PHONE_CHANGE_REFUSED, actor=actor, subject=change, data=data)
        raise refusal
    identity = Identity.objects.filter(user=actor).first()
    checked = settings.PHONE_CHANGE_CARRIER_CHECK and identity is not None
    carrier = identity_carrier_check(identity, change.new_phone) if checked else None
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=actor.pk)
            change = _locked_open_change(actor, change.pk, PhoneChange.Status.NEW_SENT)
            ensure_not_frozen(user)
            ensure_within_limit(user)
            if checked:
                phone_check = phone_check_record(
                    user=user,
                    purpose=PhoneCheck.Purpose.PHONE_CHANGE,
                    phone=change.new_phone,
                    result=carrier,
                    phone_change=change,
                )
                if phone_check.outcome != PhoneCheck.Outcome.MATCH:
                    phone_change_review_open(user=user, change=change, phone_check=phone_check)
                    return user
            phone_number_apply(user=user, change=change, reason="phone changed with the old phone (path a)")
    except IntegrityError:  # taken by a registration in the meantime
        raise _taken() from None
    return user


def phone_change_review_open(*, user: User, change: PhoneChange, phone_check: PhoneCheck) -> ReviewCase:
    """A new number the carrier did not confirm in the borrower's name waits for an officer.
    Runs in the caller's transaction with ``user`` and ``change`` locked."""
    change.status = PhoneChange.Status.IN_REVIEW
    change._change_reason = f"new number at the carrier: {phone_check.outcome}; sent to review"
    change.save()
    context = current_request()
    assessment = risk.assess(
        user_id=user.pk, ip=context.ip if context else None, request_action=Action.PHONE_CHANGE_NEW_NUMBER
    )
    case = review_case_open(
        kind=PHONE_OTHER_NAME,
        subject=change,
        borrower=user,
        requested_by=user,
        risk=risk.Assessment(
            (risk.Reason("phone_not_in_own_name", str(NOT_IN_OWN_NAME), 30), *assessment.reasons)
        ),
    )
    record(
        action=Action.PHONE_CHANGE_TO_REVIEW,
        actor=user,
        subject=change,
        data={
            "case": case.pk,
            "new": change.new_phone_masked,
            "phone_check": phone_check.outcome,
            "provider_request_id": phone_check.provider_request_id,
        },
    )
    notification_create(
        user=user,
        kind="phone_change_in_review",
        params={"new": change.new_phone_masked},
        link="/accounts/phone/change/",
    )
    return case


def phone_change_review_approve(case: ReviewCase, officer: User) -> None:
    """Approve action: the number changes as if the carrier had said yes."""
    phone_number_apply_reviewed(case, path="a", refused=PhoneChangeRefused)


def phone_number_apply_reviewed(case: ReviewCase, *, path: str, refused: type[PhoneChangeRefused]) -> User:
    """The number of a change an officer approved (``path`` a or b), unless the request stopped
    waiting or the number is no longer possible; returns the borrower."""
    change = PhoneChange.objects.select_for_update().get(pk=case.subject_id)
    if change.status != PhoneChange.Status.IN_REVIEW:
        raise refused(_("The request is no longer waiting for review."), code="not_in_review")
    user = User.objects.select_for_update().get(pk=change.user_id)
    refusal = number_refusal(user, change.new_phone)
    if refusal:
        raise refusal
    phone_number_apply(
        user=user, change=change, reason=f"phone changed after review case #{case.pk} (path {path})"
    )
    return user


def phone_change_review_reject(case: ReviewCase, officer: User | None, reason: str) -> None:
    """Reject action: the number stays; the borrower is told why in the app."""
    change = PhoneChange.objects.select_for_update().get(pk=case.subject_id)
    change.status = PhoneChange.Status.REJECTED
    change._change_reason = f"rejected in review case #{case.pk}"
    change.save()
    record(action=Action.PHONE_CHANGE_REJECTED, actor=officer, subject=change, data={"case": case.pk})
    notification_create(user=change.user, kind="phone_change_rejected", params={"reason": reason})


@transaction.atomic
def phone_change_cancel(*, actor: User, change: PhoneChange) -> None:
    change = PhoneChange.objects.select_for_update().get(pk=change.pk, user=actor)
    if change.status not in PhoneChange.OPEN:
        return
    change.status = PhoneChange.Status.CANCELLED
    change._change_reason = "cancelled"
    change.save()
    record(action=Action.PHONE_CHANGE_CANCELLED, actor=actor, subject=change)
