"""Reads scoped to one borrower's cards."""

from django.db.models import Exists, OuterRef

from cards.models import LIVE, Card, CardBindRequest, Mandate
from lending.prepared import Prepared


def cards_of(user):
    """The borrower's cards that are bound or waiting for review, repayment card first, each with
    ``has_active_mandate`` (one query: the card list is on every borrower's path)."""
    active = Mandate.objects.filter(card=OuterRef("pk"), status=Mandate.Status.ACTIVE)
    return (
        Card.objects.filter(user=user, status__in=LIVE)
        .annotate(has_active_mandate=Exists(active))
        .order_by("-is_repayment", "bound_at")
    )


_card_list = Prepared(lambda user_id: cards_of(user_id), int)


def card_list(user) -> list[Card]:
    """``cards_of`` as a list, its SQL compiled once (lending/prepared.py): the card page's and the
    app's card list read."""
    return _card_list(user.pk)


def card_of(user, card_id: int) -> Card:
    """One of the borrower's own cards (DoesNotExist for anyone else's)."""
    return Card.objects.get(pk=card_id, user=user)


def bind_request_of(user, request_id: int) -> CardBindRequest:
    return CardBindRequest.objects.get(pk=request_id, user=user)


_repayment_card = Prepared(
    lambda user_id: Card.objects.filter(user=user_id, is_repayment=True, status__in=LIVE).order_by("pk")[:1],
    int,
)


def repayment_card(user) -> Card | None:
    """The card loans are repaid from (compiled once: lending/prepared.py; the loan pages read it)."""
    return next(iter(_repayment_card(user.pk)), None)


def swap_candidates(user, card: Card):
    """Other active debit cards that could take over as the repayment card."""
    return Card.objects.filter(user=user, status=Card.Status.ACTIVE, card_type="debit").exclude(pk=card.pk)


def review_why(card: Card) -> str:
    """Why the card's open review case holds it, in words for the borrower: the reasons a
    borrower can act on, others as one general reason (the rules themselves stay private)."""
    from django.contrib.contenttypes.models import ContentType

    from audit.models import ReviewCase
    from cards.services.unbinding import borrower_reason

    case = (
        ReviewCase.objects.filter(
            subject_type=ContentType.objects.get_for_model(Card),
            subject_id=str(card.pk),
            status=ReviewCase.Status.OPEN,
        )
        .order_by("-pk")
        .first()
    )
    codes = [reason["code"] for reason in case.reasons] if case else []
    return borrower_reason(codes)
