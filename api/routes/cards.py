"""Cards: list, bind (the bank's code), repayment card, unbind, swap, unbind all.

The pages' rules as the pages apply them (cards.views): a frozen account is refused first, then
the password must have been typed again, then the services decide.
"""

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Status

from accounts.forms import CodeForm
from accounts.models import SmsCode
from accounts.policies import current_policy
from accounts.services import ensure_not_frozen
from api import present
from api.auth import require_recent_password
from api.problems import ApiProblem
from api.routes.auth import ERRORS, valid
from api.schemas import (
    BindConfirmIn,
    BindRequestOut,
    BindStartIn,
    CardCodeIn,
    CardList,
    CardOut,
    CodeIn,
    CodeSent,
    ObjectId,
    SwapIn,
    UnbindAllOut,
)
from cards import selectors
from cards.bins import bank_of_bin
from cards.forms import BindConfirmForm, BindForm
from cards.models import Card, CardBindRequest
from cards.services import (
    card_action_code_send,
    card_bind_confirm,
    card_bind_start,
    card_repayment_set,
    card_swap,
    card_unbind,
    cards_unbind_all,
)
from lending.selectors import has_loan_being_repaid

router = Router(tags=["cards"])
Purpose = SmsCode.Purpose


def sensitive(request):
    """The order of the pages' decorators: frozen_refused, then recent_password_required."""
    ensure_not_frozen(request.auth.user)
    require_recent_password(request)
    return request.auth.user


def own_card(user, card_id: int) -> Card:
    try:
        return selectors.card_of(user, card_id)
    except Card.DoesNotExist:
        raise Http404 from None


def _fresh(card: Card) -> Card:
    return selectors.cards_of(card.user).filter(pk=card.pk).first() or card


@router.get("", response={200: CardList, **ERRORS})
def card_list(request):
    user = request.auth.user
    cards = selectors.card_list(user)
    has_loan = has_loan_being_repaid(user)
    return {
        "items": [present.card(card) for card in cards],
        "has_loan_being_repaid": has_loan,
        "can_unbind_all": not has_loan and any(card.status == Card.Status.ACTIVE for card in cards),
    }


@router.post("/bind", response={201: BindRequestOut, **ERRORS})
def bind(request, payload: BindStartIn):
    """Start a binding: the bank checks the four elements and texts its code to the reserved phone."""
    user = sensitive(request)
    data = valid(BindForm(payload.dict()))
    started = card_bind_start(actor=user, **data)
    entry = bank_of_bin(started.bin)
    policy = current_policy("debit_authorisation") if started.card_type == "debit" else None
    answer = {
        "id": started.pk,
        "bank_name": entry.bank_name if entry else started.bank_code,
        "masked_number": f"**** {started.last4}",
        "card_type": started.card_type,
        "reserved_phone": started.reserved_phone_masked,
        "agreement": present.policy(policy),
    }
    return Status(201, answer)


@router.post("/bind/{id:request_id}/confirm", response={201: CardOut, **ERRORS})
def bind_confirm(request, request_id: ObjectId, payload: BindConfirmIn):
    """The bank's code and, for a debit card, the debit authorisation accepted."""
    user = sensitive(request)
    try:
        bind_request = selectors.bind_request_of(user, request_id)
    except CardBindRequest.DoesNotExist:
        raise Http404 from None
    if not bind_request.is_open:
        raise ApiProblem(422, "not_pending", _("This binding has expired or failed. Start again."))
    policy = current_policy("debit_authorisation") if bind_request.card_type == "debit" else None
    form = BindConfirmForm(
        {
            "code": payload.code,
            "agreement_version": payload.agreement_version or "",
            "agreement_sha256": payload.agreement_sha256 or "",
            "accept_agreement": payload.accept_agreement or "",
        },
        policy=policy,
    )
    data = valid(form)
    card = card_bind_confirm(actor=user, request=bind_request, code=data["code"], agreement=policy)
    return Status(201, present.card(_fresh(card)))


@router.post("/unbind-all/code", response={200: CodeSent, **ERRORS})
def unbind_all_code(request):
    user = sensitive(request)
    card_action_code_send(actor=user, purpose=Purpose.CARDS_UNBIND_ALL, target=user.pk)
    return present.code_sent(user)


@router.post("/unbind-all", response={200: UnbindAllOut, **ERRORS})
def unbind_all(request, payload: CodeIn):
    """Unbind every card (refused while a loan is being repaid); some may be held for a check."""
    user = sensitive(request)
    code = valid(CodeForm({"code": payload.code}))["code"]
    cards = cards_unbind_all(actor=user, code=code)
    unbound = [card for card in cards if card.status == Card.Status.UNBOUND]
    held = [card for card in cards if card.status == Card.Status.PENDING_REVIEW]
    detail = (
        _("Your cards are unbound.")
        if not held
        else _(
            "Unbinding %(cards)s needs a check by our compliance team first; they stay bound meanwhile. "
            "You will hear from us within %(hours)s working hours."
        )
        % {"cards": ", ".join(str(card) for card in held), "hours": settings.REVIEW_SLA_WORKING_HOURS}
    )
    return {
        "unbound": [present.card(card) for card in unbound],
        "held_for_review": [present.card(card) for card in held],
        "detail": detail,
    }


@router.post("/{id:card_id}/code", response={200: CodeSent, **ERRORS})
def card_code(request, card_id: ObjectId, payload: CardCodeIn):
    """Send the code for one operation on the card: card_repayment, card_unbind or card_swap."""
    user = sensitive(request)
    card = own_card(user, card_id)
    targets = {Purpose.CARD_REPAYMENT: card.pk, Purpose.CARD_UNBIND: card.pk}
    if payload.purpose == Purpose.CARD_SWAP:
        new_card = own_card(user, payload.new_card or 0)
        targets[Purpose.CARD_SWAP] = f"{card.pk}:{new_card.pk}"
    if payload.purpose not in targets:
        raise ApiProblem(
            422, "invalid", _("Choose card_repayment, card_unbind or card_swap (with new_card).")
        )
    if payload.purpose == Purpose.CARD_REPAYMENT and card.is_repayment:
        raise ApiProblem(422, "already_repayment", _("%(card)s already repays your loans.") % {"card": card})
    if payload.purpose == Purpose.CARD_REPAYMENT and not card.is_debit:
        raise ApiProblem(
            422,
            "credit_card",
            _("%(card)s is a credit card: loans are repaid from debit cards only.") % {"card": card},
        )
    card_action_code_send(actor=user, purpose=payload.purpose, target=targets[payload.purpose])
    return present.code_sent(user)


@router.post("/{id:card_id}/repayment", response={200: CardOut, **ERRORS})
def repayment(request, card_id: ObjectId, payload: CodeIn):
    """Make the card the repayment card."""
    user = sensitive(request)
    card = own_card(user, card_id)
    code = valid(CodeForm({"code": payload.code}))["code"]
    card_repayment_set(actor=user, card=card, code=code)
    return present.card(_fresh(card))


@router.post("/{id:card_id}/unbind", response={200: CardOut, **ERRORS})
def unbind(request, card_id: ObjectId, payload: CodeIn):
    """Unbind the card now, or hold it for a check (status pending_review)."""
    user = sensitive(request)
    card = own_card(user, card_id)
    code = valid(CodeForm({"code": payload.code}))["code"]
    return present.card(card_unbind(actor=user, card=card, code=code))


@router.post("/{id:card_id}/swap", response={200: CardOut, **ERRORS})
def swap(request, card_id: ObjectId, payload: SwapIn):
    """Move repayments to another active debit card and unbind this one (answers the old card)."""
    user = sensitive(request)
    card = own_card(user, card_id)
    new = selectors.swap_candidates(user, card).filter(pk=payload.new_card).first()
    if new is None:
        raise Http404
    code = valid(CodeForm({"code": payload.code}))["code"]
    return present.card(card_swap(actor=user, old=card, new=new, code=code))
