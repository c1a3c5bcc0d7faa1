"""Changing the bound phone with the old one lost (DESIGN.md path b). No sign-in: the old phone is gone."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, session
from accounts.forms import CodeForm, PhoneLostForm
from accounts.models import PhoneChange
from accounts.services import (
    DomainError,
    phone_lost_cancel,
    phone_lost_confirm,
    phone_lost_send_code,
    phone_lost_start,
)
from accounts.views.common import send_code

FLOW_MINUTES = 60 * 24 * 30  # the browser keeps following its request while it is reviewed


def _own_request(request) -> PhoneChange | None:
    """The lost-phone request started in this browser, if any."""
    state = session.recall(request, "lost", max_minutes=FLOW_MINUTES)
    if not state:
        return None
    return PhoneChange.objects.filter(pk=state["change_id"], path=PhoneChange.Path.LOST_PHONE).first()


def phone_lost(request):
    change = _own_request(request)
    if change and change.status != PhoneChange.Status.CANCELLED and request.method == "GET":
        context = {"change": change, "code_form": CodeForm(), "case": selectors.lost_phone_case(change)}
        return render(request, "accounts/phone_lost_status.html", context)
    form = PhoneLostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = phone_lost_start(**form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            session.remember(request, "lost", change_id=change.pk)
            messages.success(request, _("We sent a code to %(phone)s.") % {"phone": change.new_phone_masked})
            return redirect("accounts:phone_lost")
    return render(request, "accounts/phone_lost.html", {"form": form})


@require_POST
def phone_lost_code(request):
    change = _own_request(request)
    if change is None:
        return redirect("accounts:phone_lost")
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            case = phone_lost_confirm(change=change, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(
                request, _("Your request is with our compliance team (case %(id)s).") % {"id": case.pk}
            )
            return redirect("accounts:phone_lost")
    context = {"change": change, "code_form": form, "case": None}
    return render(request, "accounts/phone_lost_status.html", context, status=400)


@require_POST
def phone_lost_resend(request):
    change = _own_request(request)
    if change and change.is_open:
        send_code(request, lambda: phone_lost_send_code(change=change), _("We sent a new code."))
    return redirect("accounts:phone_lost")


@require_POST
def phone_lost_withdraw(request):
    change = _own_request(request)
    if change is not None:
        phone_lost_cancel(actor=change.user, change=change)
        session.forget(request, "lost")
        messages.info(request, _("Your request is withdrawn; your number is unchanged."))
    return redirect("accounts:phone_lost")
