"""Changing the bound phone, step by step (DESIGN.md path a). Every page needs the password again."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.decorators import frozen_refused, recent_password_required
from accounts.forms import CodeForm, NewPhoneForm
from accounts.models import PhoneChange, SmsCode
from accounts.services import (
    DomainError,
    code_status,
    phone_change_cancel,
    phone_change_confirm_new,
    phone_change_confirm_old,
    phone_change_send_code,
    phone_change_set_new,
    phone_change_start,
)
from accounts.services.phone_change import new_number_target
from accounts.views.common import send_code


def _own_change(request, change_id: int) -> PhoneChange:
    try:
        return selectors.phone_change_of(request.user, change_id)
    except PhoneChange.DoesNotExist:
        raise Http404 from None


def _code_status(request, change: PhoneChange | None):
    """The code of the step the change is at: to the current number, or to the new one."""
    if change is None or change.status not in (PhoneChange.Status.STARTED, PhoneChange.Status.NEW_SENT):
        return None
    if change.status == PhoneChange.Status.STARTED:
        return code_status(
            purpose=SmsCode.Purpose.PHONE_CHANGE_OLD, target=change.pk, phone=request.user.phone
        )
    return code_status(
        purpose=SmsCode.Purpose.PHONE_CHANGE_NEW, target=new_number_target(change), phone=change.new_phone
    )


def _page(request, change: PhoneChange | None, *, code_form=None, phone_form=None, status=200):
    lost = selectors.latest_lost_phone_request(request.user)
    reviewed = selectors.latest_reviewed_phone_change(request.user)
    context = {
        "code_status": _code_status(request, change),
        "reviewed": reviewed,
        "reviewed_case": selectors.phone_change_case(reviewed) if reviewed else None,
        "change": change,
        "code_form": code_form or CodeForm(),
        "phone_form": phone_form or NewPhoneForm(),
        "lost": lost,
        "lost_case": selectors.lost_phone_case(lost) if lost else None,
    }
    return render(request, "accounts/phone_change.html", context, status=status)


@frozen_refused
@recent_password_required
def phone_change(request):
    if request.method == "POST":
        try:
            phone_change_start(actor=request.user)
        except DomainError as exc:
            exc.tell(request)
        else:
            messages.success(
                request,
                _("We sent a code to your current number %(phone)s.") % {"phone": request.user.masked_phone},
            )
        return redirect("accounts:phone_change")
    return _page(request, selectors.open_phone_change(request.user))


@frozen_refused
@require_POST
@recent_password_required
def phone_change_old(request, change_id):
    change = _own_change(request, change_id)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            phone_change_confirm_old(actor=request.user, change=change, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.as_form_error())
        else:
            return redirect("accounts:phone_change")
    return _page(request, change, code_form=form, status=400)


@frozen_refused
@require_POST
@recent_password_required
def phone_change_new(request, change_id):
    change = _own_change(request, change_id)
    form = NewPhoneForm(request.POST)
    if form.is_valid():
        try:
            change = phone_change_set_new(
                actor=request.user, change=change, new_phone=form.cleaned_data["new_phone"]
            )
        except DomainError as exc:
            form.add_error("new_phone", exc.as_form_error())
        else:
            messages.success(request, _("We sent a code to %(phone)s.") % {"phone": change.new_phone_masked})
            return redirect("accounts:phone_change")
    return _page(request, change, phone_form=form, status=400)


@frozen_refused
@require_POST
@recent_password_required
def phone_change_confirm(request, change_id):
    change = _own_change(request, change_id)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            user = phone_change_confirm_new(actor=request.user, change=change, code=form.cleaned_data["code"])
        except DomainError as exc:
            if exc.code != "taken":
                form.add_error("code", exc.as_form_error())
            else:  # the code was right, the number is not possible: a fresh page to enter another
                exc.tell(request)
                return redirect("accounts:phone_change")
        else:
            change.refresh_from_db()
            if change.status == PhoneChange.Status.IN_REVIEW:
                messages.info(
                    request,
                    _(
                        "The carrier did not confirm that %(phone)s is registered in your name, so a "
                        "compliance officer will review the change. Your number stays the same until then."
                    )
                    % {"phone": change.new_phone_masked},
                )
                return redirect("accounts:phone_change")
            update_session_auth_hash(request, user)
            messages.success(
                request,
                _("Your number is now %(phone)s. Your other devices are signed out.")
                % {"phone": user.masked_phone},
            )
            return redirect("accounts:home")
    return _page(request, change, code_form=form, status=400)


@frozen_refused
@require_POST
@recent_password_required
def phone_change_resend(request, change_id):
    change = _own_change(request, change_id)
    if change.is_open:
        send_code(
            request,
            lambda: phone_change_send_code(actor=request.user, change=change),
            _("We sent a new code."),
        )
    return redirect("accounts:phone_change")


@require_POST
@recent_password_required
def phone_change_cancel_view(request, change_id):
    phone_change_cancel(actor=request.user, change=_own_change(request, change_id))
    messages.info(request, _("The phone change is cancelled; your number is unchanged."))
    return redirect("accounts:home")
