from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import borrower_required, frozen_refused, recent_password_required
from accounts.forms import BiometricsConsentForm, CodeForm
from accounts.models import FaceCheck, SmsCode
from accounts.policies import current_policy
from accounts.selectors import identity_of
from accounts.views.common import send_code
from cards import selectors
from cards.forms import BindConfirmForm, BindForm, SwapForm
from cards.models import Card, CardBindRequest
from cards.services import (
    card_action_code_send,
    card_bind_confirm,
    card_bind_start,
    card_repayment_set,
    card_swap,
    card_unbind,
    cards_unbind_all,
    step_up_case,
    step_up_face_finish,
    step_up_face_start,
)
from lending.errors import DomainError
from lending.ids import parse_id
from lending.selectors import has_loan_being_repaid
from support.links import help_url_for_refusal

Purpose = SmsCode.Purpose


def _own_card(request, card_id: int) -> Card:
    try:
        return selectors.card_of(request.user, card_id)
    except Card.DoesNotExist:
        raise Http404 from None


@borrower_required
def card_list(request):
    cards = selectors.card_list(request.user)
    has_loan = has_loan_being_repaid(request.user)
    # "Unbind all" only where it can work: no loan to repay and at least one card to unbind.
    can_unbind_all = not has_loan and any(card.status == Card.Status.ACTIVE for card in cards)
    step_up = {card.pk for card in cards if step_up_case(request.user, card)}
    context = {"cards": cards, "has_loan": has_loan, "can_unbind_all": can_unbind_all, "step_up": step_up}
    return render(request, "cards/list.html", context)


@frozen_refused
@recent_password_required
def bind(request):
    identity = identity_of(request.user)
    form = BindForm(request.POST or None)
    help_url = ""  # a refusal that points to customer service links to a help request
    if identity and request.method == "POST" and form.is_valid():
        try:
            bind_request = card_bind_start(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.as_form_error())
            help_url = help_url_for_refusal(exc.code)
        else:
            messages.success(
                request,
                _("Your bank sent a code to %(phone)s.") % {"phone": bind_request.reserved_phone_masked},
            )
            return redirect("cards:bind_confirm", bind_request.pk)
    context = {"form": form, "identity": identity, "help_url": help_url}
    return render(request, "cards/bind.html", context)


@frozen_refused
@recent_password_required
def bind_confirm(request, request_id):
    try:
        bind_request = selectors.bind_request_of(request.user, request_id)
    except CardBindRequest.DoesNotExist:
        raise Http404 from None
    if not bind_request.is_open:
        messages.error(request, _("This binding has expired or failed. Start again."))
        return redirect("cards:bind")
    policy = current_policy("debit_authorisation") if bind_request.card_type == "debit" else None
    form = BindConfirmForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            card = card_bind_confirm(
                actor=request.user, request=bind_request, code=form.cleaned_data["code"], agreement=policy
            )
        except DomainError as exc:
            form.add_error("code", exc.as_form_error())
        else:
            if card.status == Card.Status.PENDING_REVIEW:
                messages.info(
                    request,
                    _("Your phone number changed recently, so %(card)s waits for a quick review.")
                    % {"card": card},
                )
            else:
                messages.success(request, _("%(card)s is bound.") % {"card": card})
            return redirect("cards:list")
    context = {"form": form, "bind_request": bind_request, "policy": policy}
    return render(request, "cards/bind_confirm.html", context)


@frozen_refused
@require_POST
@recent_password_required
def code(request, card_id):
    """Send the code for one operation on the card: ``purpose`` repayment, unbind or swap (+ ``new_card``)."""
    card = _own_card(request, card_id)
    purpose = request.POST.get("purpose")
    targets = {Purpose.CARD_REPAYMENT: card.pk, Purpose.CARD_UNBIND: card.pk}
    if purpose == Purpose.CARD_SWAP:
        new_card = _own_card(request, parse_id(request.POST.get("new_card")) or 0)
        targets[purpose] = f"{card.pk}:{new_card.pk}"
        request.session["swap_to"] = new_card.pk
    if purpose not in targets:
        raise Http404
    if purpose == Purpose.CARD_REPAYMENT and card.is_repayment:
        return _already_repayment(request, card)
    if purpose == Purpose.CARD_REPAYMENT and not card.is_debit:
        return _credit_cannot_repay(request, card)
    sent = _("We sent a code to %(phone)s.") % {"phone": request.user.masked_phone}
    send_code(
        request,
        lambda: card_action_code_send(actor=request.user, purpose=purpose, target=targets[purpose]),
        sent,
    )
    back = {Purpose.CARD_REPAYMENT: "cards:repayment"}.get(purpose, "cards:unbind")
    return redirect(back, card.pk)


def _already_repayment(request, card: Card):
    messages.info(request, _("%(card)s already repays your loans.") % {"card": card})
    return redirect("cards:list")


def _credit_cannot_repay(request, card: Card):
    messages.info(
        request, _("%(card)s is a credit card: loans are repaid from debit cards only.") % {"card": card}
    )
    return redirect("cards:list")


@frozen_refused
@recent_password_required
def repayment(request, card_id):
    card = _own_card(request, card_id)
    if card.is_repayment:
        return _already_repayment(request, card)
    if not card.is_debit:
        return _credit_cannot_repay(request, card)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card_repayment_set(actor=request.user, card=card, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.as_form_error())
        else:
            messages.success(request, _("Your loans are now repaid from %(card)s.") % {"card": card})
            return redirect("cards:list")
    return render(request, "cards/repayment.html", {"card": card, "form": form})


@frozen_refused
@recent_password_required
def unbind(request, card_id):
    card = _own_card(request, card_id)
    candidates = selectors.swap_candidates(request.user, card)
    must_swap = card.is_repayment and has_loan_being_repaid(request.user)
    form = CodeForm(request.POST or None) if not must_swap else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            card = card_unbind(actor=request.user, card=card, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.as_form_error())
        else:
            return _after_unbind(request, card)
    swap_form = SwapForm(initial={"new_card": request.session.get("swap_to")}, candidates=candidates)
    context = {
        "card": card,
        "form": form,
        "must_swap": must_swap,
        "candidates": candidates,
        "swap_form": swap_form,
    }
    return render(request, "cards/unbind.html", context)


def _after_unbind(request, card: Card):
    if card.status == Card.Status.PENDING_REVIEW:
        messages.info(
            request,
            _(
                "Unbinding %(card)s needs a check by our compliance team because %(why)s. It stays "
                "bound meanwhile; you will hear from us within %(hours)s working hours."
            )
            % {"card": card, "why": selectors.review_why(card), "hours": settings.REVIEW_SLA_WORKING_HOURS},
        )
    else:
        messages.success(request, _("%(card)s is unbound.") % {"card": card})
    return redirect("cards:list")


@frozen_refused
@require_POST
@recent_password_required
def swap(request, card_id):
    card = _own_card(request, card_id)
    candidates = selectors.swap_candidates(request.user, card)
    form = SwapForm(request.POST, candidates=candidates)
    if form.is_valid():
        try:
            old = card_swap(
                actor=request.user,
                old=card,
                new=form.cleaned_data["new_card"],
                code=form.cleaned_data["code"],
            )
        except DomainError as exc:
            form.add_error("code", exc.as_form_error())
        else:
            request.session.pop("swap_to", None)
            messages.success(
                request, _("%(card)s now repays your loans.") % {"card": form.cleaned_data["new_card"]}
            )
            return _after_unbind(request, old)
    context = {"card": card, "form": None, "must_swap": True, "candidates": candidates, "swap_form": form}
    return render(request, "cards/unbind.html", context, status=400)


@frozen_refused
@recent_password_required
def unbind_all(request):
    has_loan = has_loan_being_repaid(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("send"):
        sent = _("We sent a code to %(phone)s.") % {"phone": request.user.masked_phone}
        send_code(
            request,
            lambda: card_action_code_send(
                actor=request.user, purpose=Purpose.CARDS_UNBIND_ALL, target=request.user.pk
            ),
            sent,
        )
        return redirect("cards:unbind_all")
    if request.method == "POST" and form.is_valid():
        try:
            cards = cards_unbind_all(actor=request.user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.as_form_error())
        else:
            _tell_unbind_all_outcome(request, cards)
            return redirect("cards:list")
    cards = [card for card in selectors.card_list(request.user) if card.status == Card.Status.ACTIVE]
    context = {"form": form, "has_loan": has_loan, "cards": cards}
    return render(request, "cards/unbind_all.html", context)


def _tell_unbind_all_outcome(request, cards: list[Card]) -> None:
    """Say what happened to each card: unbound now, or held for a check (never "all unbound"
    when some or all were held)."""
    unbound = [card for card in cards if card.status == Card.Status.UNBOUND]
    held = [card for card in cards if card.status == Card.Status.PENDING_REVIEW]
    if unbound and not held:
        messages.success(request, _("Your cards are unbound."))
    elif unbound:
        names = ", ".join(str(card) for card in unbound)
        messages.success(request, _("Unbound: %(cards)s.") % {"cards": names})
    if held:
        names = ", ".join(str(card) for card in held)
        messages.info(
            request,
            _(
                "Unbinding %(cards)s needs a check by our compliance team first; they stay bound meanwhile. "
                "You will hear from us within %(hours)s working hours."
            )
            % {"cards": names, "hours": settings.REVIEW_SLA_WORKING_HOURS},
        )


# Step-up: a card held for review cleared by the borrower's own face check (STEP_UP_FACE_CHECK).


@frozen_refused
def step_up(request, card_id):
    """The purpose, the biometrics consent, then the provider's liveness page (through a page of
    ours: the form-action policy keeps form posts on this site)."""
    card = _own_card(request, card_id)
    if step_up_case(request.user, card) is None:
        return redirect("cards:list")
    form = BiometricsConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            step_up_face_start(
                actor=request.user,
                card=card,
                consent=current_policy("biometrics"),
                return_url=request.build_absolute_uri(reverse("cards:step_up_back")),
            )
        except DomainError as exc:
            exc.tell(request)
            return redirect("cards:list")
        return redirect("cards:step_up_go", card.pk)
    context = {"card": card, "form": form, "biometrics": current_policy("biometrics")}
    return render(request, "cards/step_up.html", context, status=400 if form.errors else 200)


@frozen_refused
def step_up_go(request, card_id):
    card = _own_card(request, card_id)
    check = (
        FaceCheck.objects.filter(
            user=request.user,
            purpose=FaceCheck.Purpose.STEP_UP,
            status=FaceCheck.Status.PENDING,
            review_case__subject_id=str(card.pk),
        )
        .order_by("-id")
        .first()
    )
    if check is None:
        return redirect("cards:list")
    return render(request, "cards/step_up_go.html", {"card": card, "check": check})


@borrower_required
def step_up_back(request):
    """The provider's page sends the borrower back here with its token; the result is asked of
    the provider, never read from the browser."""
    token = request.GET.get("token", "")
    if not token:
        return redirect("cards:list")
    try:
        card = step_up_face_finish(actor=request.user, biz_token=token[:64])
    except DomainError as exc:
        exc.tell(request)
    else:
        if card.status == Card.Status.UNBOUND:
            messages.success(request, _("The face check passed: %(card)s is unbound.") % {"card": card})
        elif card.status == Card.Status.ACTIVE:
            messages.success(request, _("The face check passed: %(card)s is bound.") % {"card": card})
        else:
            messages.info(
                request, _("%(card)s was decided by our compliance team meanwhile.") % {"card": card}
            )
    return redirect("cards:list")
