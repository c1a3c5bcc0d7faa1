"""Reads scoped to one borrower's cards."""

from cards.models import LIVE, Card, CardBindRequest


def cards_of(user):
    """The borrower's cards that are bound or waiting for review, repayment card first."""
    return (
        Card.objects.filter(user=user, status__in=LIVE)
        .prefetch_related("mandates")
        .order_by("-is_repayment", "bound_at")
    )


def card_of(user, card_id: int) -> Card:
    """One of the borrower's own cards (DoesNotExist for anyone else's)."""
    return Card.objects.get(pk=card_id, user=user)


def bind_request_of(user, request_id: int) -> CardBindRequest:
    return CardBindRequest.objects.get(pk=request_id, user=user)


def repayment_card(user) -> Card | None:
    return Card.objects.filter(user=user, is_repayment=True, status__in=LIVE).first()


def swap_candidates(user, card: Card):
    """Other active debit cards that could take over as the repayment card."""
    return Card.objects.filter(user=user, status=Card.Status.ACTIVE, card_type="debit").exclude(pk=card.pk)
