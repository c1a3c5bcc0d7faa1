"""Unbinding cards: one card (after the risk rules), all cards, and revoking mandates at the bank."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.notifications import card_param
from accounts.services.codes import sms_code_send, sms_code_verify
from accounts.services.freeze import ensure_not_frozen
from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit import risk
from audit.actions import Action
from audit.context import current_request
from audit.services import record, review_case_open
from cards import risk as card_risk
from cards.gateways import get_gateway
from cards.models import Card, Mandate
from cards.services.binding import recent_phone_change
from lending.errors import DomainError
from lending.outbox import outbox_enqueue
from lending.selectors import has_loan_being_repaid

UNBIND_REVIEW = "card_unbind"
REPAYMENT_CARD_IN_USE = gettext_lazy(
    "This card repays a loan. Choose another card to take over first, then unbind it."
)
LOAN_OUTSTANDING = gettext_lazy("You have a loan being repaid: its repayment card must stay bound.")
NOT_ACTIVE = gettext_lazy("This card is not bound any more, or its unbinding is being reviewed.")


# Why a change waits for a check, in words for the borrower; the other rules are kept private.
BORROWER_REASONS = {
    "recent_phone_change": gettext_lazy("your phone number changed in the last 24 hours"),
    "unbind_velocity_user": gettext_lazy("several cards were unbound from your account today"),
}
GENERAL_REASON = gettext_lazy("we check some changes by hand to keep your account safe")


def borrower_reason(codes: list[str]) -> str:
    """The first reason among ``codes`` a borrower may be told, else the general one."""
    return str(next((BORROWER_REASONS[code] for code in codes if code in BORROWER_REASONS), GENERAL_REASON))


class UnbindRefused(DomainError):
    code = "unbind_refused"


def card_action_code_send(*, actor: User, purpose: str, target) -> None:
    """A code to the account phone for one card operation (repayment card, unbind, swap, unbind all)."""
    ensure_not_frozen(actor)
    sms_code_send(purpose=purpose, target=target, phone=actor.phone, user=actor, actor=actor)


def unbind_assessment(user: User) -> risk.Assessment:
    """What routes an unbind to review: the risk rules, and a phone change within a day."""
    context = current_request()
    assessment = risk.assess(
        user_id=user.pk, ip=context.ip if context else None, request_action=Action.CARD_UNBIND_REQUESTED
    )
    if recent_phone_change(user):
        reason = risk.Reason("recent_phone_change", str(card_risk.RECENT_PHONE_CHANGE), 30)
        return risk.Assessment((reason, *assessment.reasons))
    return assessment


def complete_unbind(*, card: Card, actor: User | None, reason: str) -> Card:
    """Unbind a locked card now: mandate revoked (at the bank right after commit), borrower told."""
    from cards.tasks import revoke_mandate

    card.status = Card.Status.UNBOUND
    card.is_repayment = False
    card.unbound_at = timezone.now()
    card._change_reason = reason
    card.save()
    for mandate in Mandate.objects.select_for_update().filter(card=card, status=Mandate.Status.ACTIVE):
        mandate.status = Mandate.Status.REVOKED
        mandate.revoked_at = timezone.now()
        mandate._change_reason = reason
        mandate.save()
        outbox_enqueue(task=revoke_mandate, kwargs={"mandate_id": mandate.pk})
    record(
        action=Action.CARD_UNBOUND,
        actor=actor,
        subject=card,
        data={"card": card.masked_number, "bank": card.bank_code},
    )
    user = card.user
    notification_create(user=user, kind="card_unbound", params={"card": card_param(card)}, link="/cards/")
    sms_queue(to=user.phone, template="card_unbound", context={"last4": card.last4}, language=user.language)
    return card


def _unbind_or_review(*, actor: User, card: Card) -> Card:
    """The risk rules decide: unbind now, or hold the card for a review case."""
    assessment = unbind_assessment(actor)
    if not assessment.reasons:
        return complete_unbind(card=card, actor=actor, reason="unbound by the borrower")
    card.status = Card.Status.PENDING_REVIEW
    card._change_reason = "unbind sent to review"
    card.save()
    record(
        action=Action.CARD_UNBIND_REQUESTED,
        actor=actor,
        subject=card,
        data={"card": card.masked_number, "reasons": [r.code for r in assessment.reasons]},
    )
    review_case_open(kind=UNBIND_REVIEW, subject=card, borrower=actor, requested_by=actor, risk=assessment)
    notification_create(
        user=actor, kind="card_unbind_in_review", params={"card": card_param(card)}, link="/cards/"
    )
    return card


def _refused(actor: User, card: Card, why: str, message: str) -> UnbindRefused:
    with transaction.atomic():
        record(
            action=Action.CARD_UNBIND_REFUSED,
            actor=actor,
            subject=card,
            data={"card": card.masked_number, "why": why},
        )
    return UnbindRefused(message, code=why)


def card_unbind(*, actor: User, card: Card, code: str) -> Card:
    """Unbind one card with the code sent for it. The repayment card of a loan being repaid
    cannot go until another card takes over (``card_swap``)."""
    ensure_not_frozen(actor)
    card = Card.objects.get(pk=card.pk, user=actor)
    if card.is_repayment and has_loan_being_repaid(actor):
        raise _refused(actor, card, "repayment_card_in_use", str(REPAYMENT_CARD_IN_USE))
    sms_code_verify(purpose="card_unbind", target=card.pk, code=code, actor=actor, user=actor)
    with transaction.atomic():
        card = Card.objects.select_for_update().get(pk=card.pk, user=actor)
        if card.status != Card.Status.ACTIVE:
            raise UnbindRefused(str(NOT_ACTIVE), code="not_active")
        if card.is_repayment and has_loan_being_repaid(actor):  # a loan may have started meanwhile
            raise UnbindRefused(str(REPAYMENT_CARD_IN_USE), code="repayment_card_in_use")
        return _unbind_or_review(actor=actor, card=card)


def cards_unbind_all(*, actor: User, code: str) -> list[Card]:
    """Unbind every card with one code; refused while any loan is being repaid."""
    ensure_not_frozen(actor)
    if has_loan_being_repaid(actor):
        with transaction.atomic():
            record(
                action=Action.CARD_UNBIND_REFUSED,
                actor=actor,
                subject=actor,
                data={"why": "loan_outstanding"},
            )
        raise UnbindRefused(str(LOAN_OUTSTANDING), code="loan_outstanding")
    sms_code_verify(purpose="cards_unbind_all", target=actor.pk, code=code, actor=actor, user=actor)
    with transaction.atomic():
        User.objects.select_for_update().get(pk=actor.pk)
        if has_loan_being_repaid(actor):
            raise UnbindRefused(str(LOAN_OUTSTANDING), code="loan_outstanding")
        cards = list(
            Card.objects.select_for_update().filter(user=actor, status=Card.Status.ACTIVE).order_by("pk")
        )
        return [_unbind_or_review(actor=actor, card=card) for card in cards]


def mandate_revoke_at_bank(*, mandate_id: int) -> bool:
    """Tell the bank a revoked mandate is over (once; retried while the bank does not answer)."""
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate_id)
        if mandate.revoked_at_bank or mandate.status != Mandate.Status.REVOKED:
            return False
        get_gateway().revoke(token=mandate.token)
        mandate.revoked_at_bank = timezone.now()
        mandate._change_reason = "revoked at the bank"
        mandate.save()
        record(
            action=Action.MANDATE_REVOKED_AT_BANK,
            actor=None,
            subject=mandate,
            data={"card": mandate.card.masked_number},
        )
    return True
