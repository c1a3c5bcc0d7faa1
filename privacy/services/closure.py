"""Closing an account (注销): asked with password and code, a cooling-off period that signing in
cancels, then closure carried out by beat along the retention table (privacy.retention).

Closure revokes every debit authorisation at the bank, ends every session, refuses sign-in,
frees the phone number for a new registration, and deletes or de-identifies personal data;
what the law keeps (AML identification) moves, encrypted, to the restricted AccountClosure row.
The audit trail is never touched: it holds masked data only, so its chain keeps verifying.
"""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Identity, Notification, PhoneChange, SmsCode, User
from accounts.services.codes import Purpose, sms_code_verify
from accounts.services.login import password_check
from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.models import ReviewCase
from audit.services import record
from cards.models import Card, CardBindRequest, Mandate
from lending.crypto import encrypt
from lending.errors import DomainError
from lending.models import Loan
from lending.outbox import outbox_enqueue
from lending.pii import mask_name
from privacy.models import AccountClosure, DataCopy
from support.models import SupportCase

Status = AccountClosure.Status


class ClosureRefused(DomainError):
    code = "closure_refused"


def closure_blockers(user: User) -> list[str]:
    """What stands in the way of closing, in words for the borrower (empty: nothing)."""
    blockers = []
    loans = Loan.objects.filter(borrower=user, status__in=Loan.BEING_REPAID).order_by("pk")
    for loan in loans:
        blockers.append(_("Loan #%(id)s is still being repaid.") % {"id": loan.pk})
    for case in ReviewCase.objects.filter(borrower=user, status=ReviewCase.Status.OPEN).order_by("pk"):
        blockers.append(_("Review case #%(id)s is still open.") % {"id": case.pk})
    if Card.objects.filter(user=user, status=Card.Status.PENDING_REVIEW).exists():
        blockers.append(_("A card is waiting for a compliance check."))
    for case in (
        SupportCase.objects.filter(borrower=user).exclude(status=SupportCase.Status.RESOLVED).order_by("pk")
    ):
        blockers.append(_("Help request #%(id)s is still open.") % {"id": case.pk})
    return blockers


def pending_closure(user: User) -> AccountClosure | None:
    return AccountClosure.objects.filter(user=user, status=Status.COOLING_OFF).first()


def _refuse(actor: User, blockers: list[str]) -> ClosureRefused:
    with transaction.atomic():
        record(
            action=Action.ACCOUNT_CLOSURE_REFUSED,
            actor=actor,
            subject=actor,
            data={"blockers": len(blockers)},
        )
    return ClosureRefused(
        _("Your account cannot be closed yet: %(why)s") % {"why": " ".join(blockers)}, code="blocked"
    )


def account_closure_request(*, actor: User, password: str, code: str) -> AccountClosure:
    """Ask to close: refused while a loan is outstanding or a case is open (saying which);
    else the cooling-off period starts and every session ends (signing in again cancels)."""
    blockers = closure_blockers(actor)
    if blockers:
        raise _refuse(actor, blockers)
    password_check(phone=None, user=actor, password=password, step="account_close")
    sms_code_verify(purpose=Purpose.ACCOUNT_CLOSE, target=actor.pk, code=code, actor=actor, user=actor)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        blockers = closure_blockers(user)
        if blockers:
            raise ClosureRefused(
                _("Your account cannot be closed yet: %(why)s") % {"why": " ".join(blockers)}
            )
        if pending_closure(user):
            raise ClosureRefused(_("Closing your account is already under way."), code="pending")
        now = timezone.now()
        closure = AccountClosure.objects.create(
            user=user, requested_at=now, effective_at=now + timedelta(days=settings.CLOSURE_COOLING_OFF_DAYS)
        )
        user.session_epoch += 1
        user._change_reason = "closure requested: sessions ended"
        user.save()
        record(
            action=Action.ACCOUNT_CLOSURE_REQUESTED,
            actor=actor,
            subject=closure,
            data={"effective_at": closure.effective_at.isoformat()},
        )
        when = formats.date_format(timezone.localtime(closure.effective_at), "DATETIME_FORMAT")
        sms_queue(
            to=user.phone,
            template="account_closure_requested",
            context={"when": when},
            language=user.language,
        )
    return closure


@transaction.atomic
def account_closure_cancel(*, actor: User) -> AccountClosure | None:
    """Signing in during the cooling-off period cancels the closure (the borrower is told)."""
    closure = AccountClosure.objects.select_for_update().filter(user=actor, status=Status.COOLING_OFF).first()
    if closure is None:
        return None
    closure.status = Status.CANCELLED
    closure.cancelled_at = timezone.now()
    closure._change_reason = "cancelled by signing in"
    closure.save()
    record(action=Action.ACCOUNT_CLOSURE_CANCELLED, actor=actor, subject=closure)
    notification_create(user=actor, kind="account_closure_cancelled", link="/privacy/")
    return closure


def _placeholder_phone(user: User) -> str:
    """A number no one can have (+86 100…: not a mobile range), unique per closed account, so the
    real one is free for a new registration and the account keeps its 'borrower has a phone' rule."""
    return f"+86100{user.pk:08d}"


def _revoke_cards(user: User, reason: str) -> dict:
    from cards.tasks import revoke_mandate

    cards = list(Card.objects.select_for_update().filter(user=user).order_by("pk"))
    revoked = 0
    for card in cards:
        for mandate in Mandate.objects.select_for_update().filter(card=card, status=Mandate.Status.ACTIVE):
            mandate.status = Mandate.Status.REVOKED
            mandate.revoked_at = timezone.now()
            mandate._change_reason = reason
            mandate.save()
            outbox_enqueue(task=revoke_mandate, kwargs={"mandate_id": mandate.pk})
            revoked += 1
        if card.status in (Card.Status.ACTIVE, Card.Status.PENDING_REVIEW):
            card.status = Card.Status.UNBOUND
            card.unbound_at = timezone.now()
        card.is_repayment = False
        card.holder_name = mask_name(card.holder_name)
        card.reserved_phone_encrypted = encrypt("")
        card._change_reason = reason
        card.save()
    Card.history.filter(user_id=user.pk).update(holder_name="*")
    CardBindRequest.objects.filter(user=user).update(reserved_phone_encrypted=encrypt(""), holder_name="*")
    return {"cards": len(cards), "mandates_revoked": revoked}


def _restrict_identity(user: User, closure: AccountClosure, reason: str) -> None:
    identity = Identity.objects.select_for_update().filter(user=user).first()
    if identity is None:
        return
    closure.real_name_encrypted = encrypt(identity.real_name)
    closure.id_number_encrypted = identity.id_number_encrypted
    closure.id_number_hash = identity.id_number_hash
    identity.real_name = mask_name(identity.real_name)
    identity.id_number_encrypted = encrypt("")
    identity.id_number_hash = f"closed:{closure.pk}"  # the person may open a new account later
    identity._change_reason = reason
    identity.save()
    Identity.history.filter(user_id=user.pk).update(real_name=identity.real_name, id_number_hash="")


def _close_account(user: User, closure: AccountClosure, reason: str) -> None:
    closure.phone_encrypted = encrypt(str(user.phone))
    placeholder = _placeholder_phone(user)
    user.phone = placeholder
    user.set_unusable_password()
    user.is_active = False
    user.session_epoch += 1
    user.unread_notifications = 0
    user._change_reason = reason
    user.save()
    User.history.filter(id=user.pk).update(phone=placeholder)


def _delete_copies(user: User) -> int:
    """Copies of the data not downloaded yet are deleted with the account."""
    from privacy.services.copies import copy_storage

    names = list(DataCopy.objects.filter(user=user).exclude(archive="").values_list("archive", flat=True))
    DataCopy.objects.filter(user=user, status=DataCopy.Status.DONE).update(status=DataCopy.Status.EXPIRED)
    DataCopy.objects.filter(user=user).update(archive="")
    for name in names:
        transaction.on_commit(partial(copy_storage().delete, name))
    return len(names)


def account_close(*, closure_id: int) -> AccountClosure | None:
    """Carry out a closure whose cooling-off period is over (beat). Refused (and left waiting)
    if a loan or a case appeared meanwhile."""
    reason = "account closed"
    with transaction.atomic():
        closure = AccountClosure.objects.select_for_update().get(pk=closure_id)
        if closure.status != Status.COOLING_OFF or closure.effective_at > timezone.now():
            return None
        user = User.objects.select_for_update().get(pk=closure.user_id)
        blockers = closure_blockers(user)
        if blockers:
            record(
                action=Action.ACCOUNT_CLOSURE_REFUSED,
                actor=None,
                subject=closure,
                data={"blockers": len(blockers)},
            )
            return None
        summary = _revoke_cards(user, reason)
        _restrict_identity(user, closure, reason)
        _close_account(user, closure, reason)
        summary["notifications_deleted"] = Notification.objects.filter(user=user).delete()[0]
        SmsCode.objects.filter(user=user).delete()
        PhoneChange.objects.filter(user=user).update(new_phone_encrypted="")
        SupportCase.objects.filter(borrower=user).update(contact_phone_encrypted="")
        summary["copies_deleted"] = _delete_copies(user)
        now = timezone.now()
        closure.status = Status.CLOSED
        closure.closed_at = now
        closure.retain_until = now + timedelta(days=settings.CLOSURE_LEGAL_RETENTION_DAYS)
        closure.summary = summary
        closure._change_reason = reason
        closure.save()
        record(action=Action.ACCOUNT_CLOSED, actor=None, subject=closure, data=summary)
    return closure


def account_closures_complete() -> int:
    """Beat: close every account whose cooling-off period is over."""
    due = AccountClosure.objects.filter(status=Status.COOLING_OFF, effective_at__lte=timezone.now())
    return sum(account_close(closure_id=pk) is not None for pk in list(due.values_list("pk", flat=True)))
