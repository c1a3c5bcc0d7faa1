"""The privacy centre (隐私中心): what is held and why, consents, a copy of the data, closing the account."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import borrower_required, recent_password_required
from accounts.models import Consent, SmsCode
from accounts.policies import current_policy, policy_version
from accounts.views.common import send_code
from lending.errors import DomainError
from lending.fragments import rendered_once
from privacy import selectors
from privacy.forms import ClosureForm, CodeForm
from privacy.models import DataCopy
from privacy.retention import RECIPIENTS, RETENTION
from privacy.services import (
    account_closure_request,
    closure_blockers,
    consent_give,
    consent_withdraw,
    data_copy_download,
    data_copy_request,
    privacy_code_send,
)
from privacy.services.consents import DOCUMENT_LABELS, ENDED_ELSEWHERE, WITHDRAWABLE

Purpose = SmsCode.Purpose


def _own(select, request, object_id):
    try:
        return select(request.user, object_id)
    except (Consent.DoesNotExist, DataCopy.DoesNotExist):
        raise Http404 from None


@borrower_required
def centre(request):
    consents = [
        (
            consent,
            DOCUMENT_LABELS.get(consent.document, consent.document),
            WITHDRAWABLE.get(consent.document),
            ENDED_ELSEWHERE.get(consent.document),
            getattr(consent, "withdrawal", None),  # none raises: the template paid for it per row
        )
        for consent in selectors.consents_of(request.user)
    ]
    # is_active(user, "marketing"), from the consents read above rather than a read of its own
    marketing_active = any(
        consent.document == "marketing" and not withdrawal for consent, *_, withdrawal in consents
    )
    context = {
        "held_and_shared": rendered_once(
            "privacy/_held_and_shared.html", {"retention": RETENTION, "recipients": RECIPIENTS}
        ),
        "consents": consents,
        "marketing_active": marketing_active,
        "copies": selectors.copies_of(request.user),
    }
    return render(request, "privacy/centre.html", context)


@borrower_required
def consent_text(request, consent_id):
    consent = _own(selectors.consent_of, request, consent_id)
    policy = policy_version(consent.document, consent.version, consent.language)
    return render(
        request,
        "privacy/consent.html",
        {"consent": consent, "policy": policy, "consequence": WITHDRAWABLE.get(consent.document)},
    )


@borrower_required
@require_POST
def consent_withdraw_view(request, consent_id):
    consent = _own(selectors.consent_of, request, consent_id)
    try:
        consent_withdraw(actor=request.user, consent=consent)
    except DomainError as exc:
        exc.tell(request)
    else:
        messages.success(request, _("Your consent is withdrawn."))
    return redirect("privacy:centre")


@borrower_required
@require_POST
def marketing_give(request):
    try:
        consent_give(actor=request.user, policy=current_policy("marketing"))
    except DomainError as exc:
        exc.tell(request)
    else:
        messages.success(request, _("Thank you: we may tell you about products and offers."))
    return redirect("privacy:centre")


@recent_password_required
def copy_request(request):
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            copy = data_copy_request(actor=request.user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.as_form_error())
        else:
            return redirect("privacy:copy", copy.pk)
    return render(request, "privacy/copy_request.html", {"form": form})


@recent_password_required
@require_POST
def copy_code(request):
    send_code(
        request,
        lambda: privacy_code_send(actor=request.user, purpose=Purpose.DATA_COPY),
        _("We sent a code to %(phone)s.") % {"phone": request.user.masked_phone},
    )
    return redirect("privacy:copy_request")


@borrower_required
def copy_status(request, copy_id):
    copy = _own(selectors.copy_of, request, copy_id)
    return render(request, "privacy/copy_status.html", {"copy": copy})


@borrower_required
@require_POST
def copy_download(request, copy_id):
    copy = _own(selectors.copy_of, request, copy_id)
    try:
        content = data_copy_download(actor=request.user, copy=copy)
    except DomainError as exc:
        exc.tell(request)
        return redirect("privacy:copy", copy.pk)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="my-data-{copy.pk}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@recent_password_required
def close(request):
    blockers = closure_blockers(request.user)
    form = ClosureForm(request.POST or None)
    if request.method == "POST" and not blockers and form.is_valid():
        try:
            closure = account_closure_request(
                actor=request.user, password=form.cleaned_data["password"], code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            form.add_error(None, exc.as_form_error())
        else:
            auth_logout(request)
            return render(request, "privacy/closure_requested.html", {"closure": closure})
    context = {"form": form, "blockers": blockers, "cooling_off_days": settings.CLOSURE_COOLING_OFF_DAYS}
    return render(request, "privacy/close.html", context)


@recent_password_required
@require_POST
def close_code(request):
    send_code(
        request,
        lambda: privacy_code_send(actor=request.user, purpose=Purpose.ACCOUNT_CLOSE),
        _("We sent a code to %(phone)s.") % {"phone": request.user.masked_phone},
    )
    return redirect("privacy:close")
