"""Binding a card: the four elements at the bank, the bank's code, the debit authorisation.

An agreement the bank confirmed is our mandate or is ended at the bank, whatever fails in between
(sandboxes/bank/PROTOCOL.md 4.5): ``card_bind_confirm`` ends it at once when the card cannot be
recorded (or queues that when the bank does not answer), and a borrower's next try on a binding
whose outcome we never recorded ends whatever agreement its sign-up made.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import Error as DbError  # DatabaseError or InterfaceError (a dropped connection)
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from accounts.notifications import card_param
from accounts.policies import Policy
from accounts.selectors import identity_of, last_phone_change_at
from accounts.services.freeze import ensure_not_frozen
from accounts.services.notifications import notification_create
from accounts.services.registration import consent_record
from accounts.validators import mainland_mobile
from audit import risk
from audit.actions import Action
from audit.context import current_request
from audit.services import record, review_case_open
from cards import risk as card_risk
from cards.bins import clean_card_number
from cards.gateways import get_gateway
from cards.gateways.base import BindRefused, GatewayError
from cards.models import LIVE, Card, CardBindRequest, Mandate, card_fingerprint
from cards.selectors import repayment_card
from lending.crypto import encrypt
from lending.db import advisory_xact_lock
from lending.errors import DomainError
from lending.outbox import outbox_enqueue
from lending.pii import mask_phone
from lending.services import collection_resume

log = logging.getLogger(__name__)

BIND_REVIEW = "card_bind"

BANK_MESSAGES = {
    "four_elements": gettext_lazy(
        "The bank could not match your name, ID number, card and reserved phone. "
        "The reserved phone is the number you gave the bank for this card."
    ),
    "card_closed": gettext_lazy("The bank reports this card as closed."),
    "code_expired": gettext_lazy("The bank's code has expired. Start the binding again."),
    "not_pending": gettext_lazy("This binding can no longer be confirmed. Start again."),
    "unavailable": gettext_lazy("The bank did not answer. Nothing was bound; try again in a few minutes."),
    "bank_error": gettext_lazy("The bank could not take the request. Nothing was bound; try again later."),
}


BOUND_MEANWHILE = gettext_lazy("This card was bound a moment ago. Refresh your cards.")


class CardRefused(DomainError):
    code = "card_refused"


def _bank_refusal(code: str) -> CardRefused:
    return CardRefused(str(BANK_MESSAGES.get(code, BANK_MESSAGES["bank_error"])), code=code)


def _refusal_code(exc: GatewayError) -> str:
    """What the borrower is told: the bank's refusal as it is, any other failure as one of two."""
    if isinstance(exc, BindRefused):
        return exc.code
    return (
        "unavailable" if exc.code in ("unavailable", "timeout", "unreachable", "bad_answer") else "bank_error"
    )


class BindLimitReached(CardRefused):
    """Too many bindings started (BIND_STARTS_PER_*): the bank is not asked until ``retry_at``."""

    def __init__(self, message, *, code, retry_at: datetime):
        super().__init__(message, code=code)
        self.retry_at = retry_at


TOO_MANY_BINDS = gettext_lazy("Too many card bindings were started. You can start another after %(time)s.")
BIND_LIMITS = (
    # (why, what the requests are counted by, setting, message)
    (
        "too_many_binds",
        "user",
        "BIND_STARTS_PER_USER_DAY",
        TOO_MANY_BINDS,
    ),
    (
        "too_many_binds_ip",
        "ip",
        "BIND_STARTS_PER_IP_DAY",
        TOO_MANY_BINDS,
    ),
    (
        "too_many_binds_card",
        "fingerprint",
        "BIND_STARTS_PER_CARD_DAY",
        gettext_lazy("This card was tried too many times. You can try it again after %(time)s."),
    ),
    (
        "too_many_binds_phone",
        "reserved_phone_fingerprint",
        "BIND_STARTS_PER_RESERVED_PHONE_DAY",
        gettext_lazy(
            "The bank has texted this reserved phone too many times. You can use it again after %(time)s."
        ),
    ),
)
LIMIT_WINDOW = timedelta(days=1)


def _bind_limit_refusal(keys: dict) -> tuple[str, datetime, str] | None:
    """The limit a new binding would pass, as (why, retry time, message), or None.

    Each limit allows ``n`` requests in 24 h: the next one may start 24 h after the n-th newest.
    When several are reached, the one that frees last is told."""
    now = timezone.now()
    reached = []
    for why, column, setting, message in BIND_LIMITS:
        if not keys[column]:
            continue  # no client IP (a task, a shell)
        limit = getattr(settings, setting)
        times = list(
            CardBindRequest.objects.filter(**{column: keys[column]}, created_at__gt=now - LIMIT_WINDOW)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:limit]
        )
        if len(times) >= limit:
            reached.append((times[-1] + LIMIT_WINDOW, why, message))
    if not reached:
        return None
    retry_at, why, message = max(reached, key=lambda limit: limit[0])
    when = formats.date_format(timezone.localtime(retry_at), "DATETIME_FORMAT")
    return why, retry_at, str(message) % {"time": when}


def recent_phone_change(user: User) -> bool:
    """Within CARD_WAIT_AFTER_PHONE_CHANGE_HOURS of a phone change, binds and unbinds go to review."""
    changed = last_phone_change_at(user)
    wait = timedelta(hours=settings.CARD_WAIT_AFTER_PHONE_CHANGE_HOURS)
    return changed is not None and timezone.now() - changed < wait


def _refused(actor: User, why: str, data: dict, message) -> CardRefused:
    with transaction.atomic():
        record(action=Action.CARD_BIND_REFUSED, actor=actor, subject=actor, data={**data, "why": why})
    return CardRefused(str(message), code=why)


def card_bind_start(*, actor: User, card_number: str, reserved_phone: str) -> CardBindRequest:
    """Check the card and have the bank send its code to the reserved phone.

    The card number goes to the bank and nowhere else: the request keeps BIN, last 4 and a
    fingerprint. A card live on another account is refused and raises a risk alert. Past the
    BIND_STARTS_PER_* limits (24 h) the bank is not asked and the refusal says when to try again.
    """
    ensure_not_frozen(actor)
    identity = identity_of(actor)
    if identity is None:
        raise CardRefused(_("Verify your identity before binding a card."), code="no_identity")
    digits, entry = clean_card_number(card_number)
    reserved = mainland_mobile(reserved_phone)
    fingerprint = card_fingerprint(digits)
    data = {"bank": entry.bank_code, "card": f"**** {digits[-4:]}", "fp": fingerprint[:16]}
    live = Card.objects.filter(fingerprint=fingerprint, status__in=LIVE).first()
    if live is not None and live.user_id == actor.pk and not live.needs_new_mandate:
        raise _refused(actor, "already_bound", data, _("This card is already bound to your account."))
    if live is not None and live.user_id != actor.pk:
        refusal = _refused(
            actor,
            "bound_elsewhere",
            data,
            _("This card is bound to another account. If it is yours, contact customer service."),
        )
        card_risk.card_on_several_accounts_alert(fingerprint=fingerprint, user=actor)
        raise refusal
    context = current_request()
    keys = {
        "user": actor,
        "ip": context.ip if context else None,
        "fingerprint": fingerprint,
        "reserved_phone_fingerprint": CardBindRequest.phone_fingerprint(reserved),
    }
    with transaction.atomic():
        # Counting and creating under locks: two bindings at once cannot both take the last one.
        names = (
            f"card-bind:{column}:{getattr(value, 'pk', value)}" for column, value in keys.items() if value
        )
        for name in sorted(names):
            advisory_xact_lock(name)
        refusal = _bind_limit_refusal(keys)
        if refusal is None:
            request = CardBindRequest.objects.create(
                bin=digits[:6],
                last4=digits[-4:],
                bank_code=entry.bank_code,
                card_type=entry.card_type,
                holder_name=identity.real_name,
                reserved_phone_encrypted=encrypt(reserved),
                reserved_phone_masked=mask_phone(reserved),
                **keys,
            )
        else:
            why, retry_at, message = refusal
            limit_data = {**data, "why": why, "phone": mask_phone(reserved), "until": retry_at.isoformat()}
            record(action=Action.CARD_BIND_REFUSED, actor=actor, subject=actor, data=limit_data)
    if refusal is not None:
        raise BindLimitReached(message, code=why, retry_at=retry_at)
    try:
        reference = get_gateway().bind_start(
            holder_name=identity.real_name,
            id_number=identity.id_number,
            card_number=digits,
            reserved_phone=reserved,
        )
    except GatewayError as exc:
        CardBindRequest.objects.filter(pk=request.pk).update(
            status=CardBindRequest.Status.FAILED, failure_code=exc.code
        )
        refusal = _refused(actor, exc.code, data, _bank_refusal(_refusal_code(exc)).message)
        if exc.code == "four_elements":
            card_risk.four_element_failures_alert(user=actor)
        raise refusal from None
    with transaction.atomic():
        request.gateway_reference = reference
        request.save(update_fields=["gateway_reference"])
        data["renewal"] = live is not None  # the card is bound: this renews its debit authorisation
        record(action=Action.CARD_BIND_STARTED, actor=actor, subject=request, data=data)
    return request


def _confirm_refused(actor: User, request: CardBindRequest, exc: BindRefused) -> CardRefused:
    """The bank refused the code. ``not_pending`` on a binding still open here means its sign-up
    was confirmed by a try whose answer we lost or could not record: its agreement is ended."""
    from cards.tasks import end_signup_agreement

    with transaction.atomic():
        request = CardBindRequest.objects.select_for_update().get(pk=request.pk)
        if exc.code == "not_pending" and request.status == CardBindRequest.Status.PENDING:
            # Under the request's lock: a try still creating the card finished first (the request
            # is completed) or will find it failed and end the agreement itself.
            outbox_enqueue(task=end_signup_agreement, kwargs={"request_id": request.pk})
        elif request.status == CardBindRequest.Status.COMPLETED:  # by a try that finished meanwhile
            return CardRefused(str(BOUND_MEANWHILE), code="bound_meanwhile")
        if exc.code == "code_wrong":
            request.wrong_tries += 1
        if exc.code != "code_wrong" or request.wrong_tries >= settings.BIND_CODE_MAX_TRIES:
            request.status = CardBindRequest.Status.FAILED
        request.failure_code = exc.code
        request.save()
        data = {"card": f"**** {request.last4}", "why": exc.code}
        record(action=Action.CARD_BIND_FAILED, actor=actor, subject=request, data=data)
    if exc.code == "code_wrong" and request.status == CardBindRequest.Status.PENDING:
        left = settings.BIND_CODE_MAX_TRIES - request.wrong_tries
        return CardRefused(
            ngettext(
                "The bank's code is wrong. %(left)d try left.",
                "The bank's code is wrong. %(left)d tries left.",
                left,
            )
            % {"left": left},
            code="code_wrong",
        )
    if exc.code == "code_wrong":
        return CardRefused(_("Too many wrong codes: the binding has stopped. Start again."), code="too_many")
    return _bank_refusal(exc.code)


def card_bind_confirm(*, actor: User, request: CardBindRequest, code: str, agreement: Policy | None) -> Card:
    """The bank's code and the accepted debit authorisation turn the request into a card with a mandate.

    A credit card needs only the code (``agreement`` is ignored): it is bound without a mandate,
    as it never repays loans.

    The first active debit card becomes the repayment card. Within a day of a phone change
    the card waits for review before it can be used. A card already bound whose mandate the
    bank ended gets the new mandate instead (its collection resumes).
    """
    request = CardBindRequest.objects.get(pk=request.pk, user=actor)
    if not request.is_open:
        raise CardRefused(_("This binding has expired. Start again."), code="expired")
    if agreement is None and request.card_type == "debit":
        raise CardRefused(_("Accept the debit authorisation to bind the card."), code="no_agreement")
    gateway = get_gateway()
    try:
        token = gateway.bind_confirm(reference=request.gateway_reference, code=code)
    except BindRefused as exc:
        raise _confirm_refused(actor, request, exc) from None
    except GatewayError as exc:
        raise _bank_refusal(_refusal_code(exc)) from None
    try:
        return _card_create(actor=actor, request_id=request.pk, token=token, agreement=agreement)
    except Exception as exc:
        # The bank confirmed but there is no mandate: whatever failed, its agreement must end.
        agreement_unrecorded_end(request_id=request.pk, token=token, error=exc)
        if isinstance(exc, IntegrityError):
            raise CardRefused(str(BOUND_MEANWHILE), code="bound_meanwhile") from None
        raise


def agreement_unrecorded_end(*, request_id: int, token: str, error: BaseException) -> None:
    """End at the bank an agreement it confirmed that did not become a mandate.

    The unsign goes out at once, as it needs no database (ours may be what failed). If the bank
    does not answer it is queued, and the request closed, when the database allows; if neither
    works, the borrower's next try ends it (``_confirm_refused``), or the daily agreement
    reconciliation finds it.
    """
    log.error(
        "bind request %s: the bank confirmed it but the card was not recorded (%s); ending the agreement",
        request_id,
        type(error).__name__,
    )
    try:
        get_gateway().revoke(token=token)
        revoked = True
    except Exception as exc:
        revoked = False
        code = exc.code if isinstance(exc, GatewayError) else type(exc).__name__
        log.warning("bind request %s: the bank did not end the agreement (%s); queueing it", request_id, code)
    try:
        with transaction.atomic():
            CardBindRequest.objects.filter(pk=request_id, status=CardBindRequest.Status.PENDING).update(
                status=CardBindRequest.Status.FAILED, failure_code="not_recorded"
            )
            if not revoked:
                outbox_revoke_token_later(token)
    except DbError as exc:
        if not revoked:
            log.error(
                "bind request %s: its agreement is still active at the bank and its unsign could not be "
                "queued (%s); the borrower's next try ends it, or the agreement reconciliation finds it",
                request_id,
                type(exc).__name__,
            )


def outbox_revoke_token_later(token: str) -> None:
    """A token the bank issued for a binding that did not happen: revoke it there."""
    from cards.tasks import revoke_orphan_token

    with transaction.atomic():
        outbox_enqueue(task=revoke_orphan_token, kwargs={"token_encrypted": encrypt(token)})


def signup_agreement_end(*, request_id: int) -> bool:
    """End at the bank the agreement a binding's sign-up made, if the binding left no mandate.

    For a binding closed without a card after the bank said its sign-up was confirmed already.
    True when an agreement was ended (ending one already ended answers the same)."""
    request = CardBindRequest.objects.get(pk=request_id)
    if request.status == CardBindRequest.Status.COMPLETED or not request.gateway_reference:
        return False
    gateway = get_gateway()
    token = gateway.signup_agreement(reference=request.gateway_reference)
    if token is None or Mandate.objects.filter(token_fingerprint=Mandate.fingerprint_of(token)).exists():
        return False
    gateway.revoke(token=token)
    log.warning("bind request %s: ended the agreement its sign-up made, as no mandate came of it", request_id)
    return True


@transaction.atomic
def _card_create(*, actor: User, request_id: int, token: str, agreement: Policy) -> Card:
    user = User.objects.select_for_update().get(pk=actor.pk)
    request = CardBindRequest.objects.select_for_update().get(pk=request_id)
    if request.status != CardBindRequest.Status.PENDING:
        raise CardRefused(_("This binding can no longer be confirmed. Start again."), code="not_pending")
    bound = Card.objects.select_for_update().filter(
        user=user, fingerprint=request.fingerprint, status=Card.Status.ACTIVE
    )
    card = bound.first()
    if card is not None:
        return _mandate_renew(user=user, request=request, card=card, token=token, agreement=agreement)
    needs_review = recent_phone_change(user)
    card = Card(
        user=user,
        bin=request.bin,
        last4=request.last4,
        bank_code=request.bank_code,
        card_type=request.card_type,
        fingerprint=request.fingerprint,
        holder_name=request.holder_name,
        reserved_phone_encrypted=request.reserved_phone_encrypted,
        reserved_phone_masked=request.reserved_phone_masked,
        status=Card.Status.PENDING_REVIEW if needs_review else Card.Status.ACTIVE,
        is_repayment=not needs_review and request.card_type == "debit" and repayment_card(user) is None,
    )
    card._change_reason = "bound"
    card.save()
    if card.is_debit:
        _mandate_attach(user, request, card, token, agreement, reason="authorised by the borrower")
    else:
        _credit_card_attach(request, card, token)
    record(
        action=Action.CARD_BOUND,
        actor=actor,
        subject=card,
        data={
            "bank": card.bank_code,
            "card": card.masked_number,
            "repayment": card.is_repayment,
            "review": needs_review,
        },
    )
    if card.is_debit:
        consent_record(actor=user, policy=agreement)
    if needs_review:
        reason = risk.Reason("recent_phone_change", str(card_risk.RECENT_PHONE_CHANGE), 30)
        review_case_open(
            kind=BIND_REVIEW, subject=card, borrower=user, requested_by=user, risk=risk.Assessment((reason,))
        )
    else:
        notification_create(user=user, kind="card_bound", params={"card": card_param(card)}, link="/cards/")
    return card


def _mandate_renew(
    *, user: User, request: CardBindRequest, card: Card, token: str, agreement: Policy
) -> Card:
    """A new mandate on a bound card whose old one the bank ended; a second active one is refused
    by the database (the caller then revokes the token at the bank)."""
    _mandate_attach(user, request, card, token, agreement, reason="authorised again by the borrower")
    data = {"bank": card.bank_code, "card": card.masked_number, "repayment": card.is_repayment}
    record(action=Action.CARD_MANDATE_RENEWED, actor=user, subject=card, data=data)
    consent_record(actor=user, policy=agreement)
    notification_create(user=user, kind="card_bound", params={"card": card_param(card)}, link="/cards/")
    return card


def _credit_card_attach(request, card: Card, token: str) -> None:
    """A credit card signs no debit authorisation: the bank's agreement from the sign-up (which
    proved the card is the borrower's) is ended at the bank right after commit."""
    outbox_revoke_token_later(token)
    request.status = CardBindRequest.Status.COMPLETED
    request.card = card
    request.save()


def _mandate_attach(user: User, request, card: Card, token: str, agreement: Policy, *, reason: str) -> None:
    """The bank's token as the card's active mandate; the request is done, collection resumes."""
    mandate = Mandate(card=card, agreement_version=agreement.version, **Mandate.token_fields(token))
    mandate._change_reason = reason
    mandate.save()
    if card.is_repayment:
        collection_resume(borrower=user)
    request.status = CardBindRequest.Status.COMPLETED
    request.card = card
    request.save()
