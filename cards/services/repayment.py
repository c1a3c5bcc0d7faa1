"""Choosing the repayment card, and swapping it so that no installment is ever left without a card."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import card_param
from accounts.services.codes import sms_code_verify
from accounts.services.freeze import ensure_not_frozen
from accounts.services.notifications import notification_create
from audit.actions import Action
from audit.services import record
from cards.models import Card
from cards.services.unbinding import NOT_ACTIVE, UnbindRefused, _unbind_or_review
from lending.errors import DomainError
from lending.services import collection_resume


class RepaymentRefused(DomainError):
    code = "repayment_refused"


def _make_repayment(*, actor: User, card_id: int) -> Card:
    """Move the repayment flag to ``card`` (locked with every other card of the borrower)."""
    cards = {c.pk: c for c in Card.objects.select_for_update().filter(user=actor).order_by("pk")}
    card = cards.get(card_id)
    if card is None:
        raise Card.DoesNotExist
    if not card.is_debit:
        raise RepaymentRefused(
            _("Only a debit card can be the repayment card, not a credit card."), code="credit_card"
        )
    if card.debit_mandate is None:
        raise RepaymentRefused(
            _("Only an active card with a debit mandate can repay loans."), code="not_active"
        )
    previous = next((c for c in cards.values() if c.is_repayment and c.pk != card.pk), None)
    if previous is not None:
        previous.is_repayment = False
        previous._change_reason = "repayment moved to another card"
        previous.save()
    card.is_repayment = True
    card._change_reason = "chosen as the repayment card"
    card.save()
    collection_resume(borrower=actor)
    record(
        action=Action.CARD_REPAYMENT_SET,
        actor=actor,
        subject=card,
        data={"card": card.masked_number, "previous": previous.masked_number if previous else ""},
    )
    notification_create(
        user=actor, kind="repayment_card_changed", params={"card": card_param(card)}, link="/cards/"
    )
    return card


def card_repayment_set(*, actor: User, card: Card, code: str) -> Card:
    """Make a debit card the repayment card; debits use its mandate from now on.

    Choosing the card that already repays is no change: nothing is written, not even the code's use.
    """
    ensure_not_frozen(actor)
    card = Card.objects.get(pk=card.pk, user=actor)
    if card.is_repayment:
        return card
    sms_code_verify(purpose="card_repayment", target=card.pk, code=code, actor=actor, user=actor)
    with transaction.atomic():
        return _make_repayment(actor=actor, card_id=card.pk)


def card_swap(*, actor: User, old: Card, new: Card, code: str) -> Card:
    """Another debit card takes over repayments, then the old one is unbound (or goes to review),
    in one transaction: no moment without a repayment card."""
    ensure_not_frozen(actor)
    old = Card.objects.get(pk=old.pk, user=actor)
    new = Card.objects.get(pk=new.pk, user=actor)
    if old.pk == new.pk:
        raise RepaymentRefused(_("Choose a different card to take over."), code="same_card")
    sms_code_verify(purpose="card_swap", target=f"{old.pk}:{new.pk}", code=code, actor=actor, user=actor)
    with transaction.atomic():
        _make_repayment(actor=actor, card_id=new.pk)
        old = Card.objects.select_for_update().get(pk=old.pk)
        if old.status != Card.Status.ACTIVE:
            raise UnbindRefused(str(NOT_ACTIVE), code="not_active")
        return _unbind_or_review(actor=actor, card=old)
