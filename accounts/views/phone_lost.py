"""Changing the bound phone with the old one lost (DESIGN.md path b). No sign-in: the old phone is gone."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, session
from accounts.forms import BiometricsConsentForm, CodeForm, PhoneLostForm
from accounts.models import FaceCheck, PhoneChange
from accounts.policies import current_policy
from accounts.services import (
    DomainError,
    phone_lost_cancel,
    phone_lost_confirm,
    phone_lost_face_finish,
    phone_lost_face_start,
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


def _status_page(request, change, *, code_form=None, consent_form=None, status=200):
    context = {
        "change": change,
        "code_form": code_form or CodeForm(),
        "consent_form": consent_form or BiometricsConsentForm(),
        "biometrics": current_policy("biometrics"),
        "case": selectors.lost_phone_case(change),
    }
    return render(request, "accounts/phone_lost_status.html", context, status=status)


def phone_lost(request):
    change = _own_request(request)
    if change and change.status != PhoneChange.Status.CANCELLED and request.method == "GET":
        return _status_page(request, change)
    form = PhoneLostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = phone_lost_start(**form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.as_form_error())
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
            form.add_error("code", exc.as_form_error())
        else:
            if case is None:
                messages.success(request, _("The new number is confirmed. One more step: a face check."))
            else:
                messages.success(
                    request, _("Your request is with our compliance team (case %(id)s).") % {"id": case.pk}
                )
            return redirect("accounts:phone_lost")
    return _status_page(request, change, code_form=form, status=400)


@require_POST
def phone_lost_face_begin(request):
    """The biometrics consent, then the provider's liveness page (through a page of ours: the
    form-action policy keeps form posts on this site)."""
    change = _own_request(request)
    if change is None:
        return redirect("accounts:phone_lost")
    form = BiometricsConsentForm(request.POST)
    if not form.is_valid():
        return _status_page(request, change, consent_form=form, status=400)
    try:
        phone_lost_face_start(
            change=change,
            consent=current_policy("biometrics"),
            return_url=request.build_absolute_uri(reverse("accounts:phone_lost_face")),
        )
    except DomainError as exc:
        exc.tell(request)
        return redirect("accounts:phone_lost")
    return redirect("accounts:phone_lost_face_go")


def phone_lost_face_go(request):
    change = _own_request(request)
    check = change and change.face_checks.filter(status=FaceCheck.Status.PENDING).order_by("-id").first()
    if not check:
        return redirect("accounts:phone_lost")
    return render(request, "accounts/phone_lost_face_go.html", {"check": check})


def phone_lost_face(request):
    """The provider's page sends the borrower back here with its token; the result is asked
    of the provider, never read from the browser."""
    change = _own_request(request)
    token = request.GET.get("token", "")
    if change is None or not token:
        return redirect("accounts:phone_lost")
    try:
        case = phone_lost_face_finish(change=change, biz_token=token[:64])
    except DomainError as exc:
        exc.tell(request)
    else:
        _tell_submitted(request, case)
    return redirect("accounts:phone_lost")


def _tell_submitted(request, case) -> None:
    if case.status == case.Status.APPROVED:
        messages.success(request, _("Your number is changed. Sign in with the new number."))
    else:
        messages.success(
            request, _("Your request is with our compliance team (case %(id)s).") % {"id": case.pk}
        )


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
