"""Changing the bound phone with the old one at hand (DESIGN.md path a), step by step.

As on the pages (accounts.views.phone): frozen refused first, the password typed again, then
the services decide every step.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Status

from accounts import selectors
from accounts.forms import CodeForm, NewPhoneForm
from accounts.models import PhoneChange
from accounts.services import (
    phone_change_cancel,
    phone_change_confirm_new,
    phone_change_confirm_old,
    phone_change_send_code,
    phone_change_set_new,
    phone_change_start,
)
from api.auth import require_recent_password
from api.problems import ApiProblem
from api.routes.auth import ERRORS, valid
from api.routes.cards import sensitive
from api.schemas import CodeIn, CodeSent, Done, NewPhoneIn, ObjectId, PhoneChangeOut
from api.services import device_token_keep

router = Router(tags=["phone change"])
ChangeStatus = PhoneChange.Status
NEXT_STEP = {
    ChangeStatus.STARTED: "confirm_old",
    ChangeStatus.OLD_CONFIRMED: "set_new",
    ChangeStatus.NEW_SENT: "confirm_new",
}


def change_out(change: PhoneChange) -> dict:
    return {
        "id": change.pk,
        "status": change.status,
        "status_display": str(change.get_status_display()),
        "old_phone": change.old_phone_masked,
        "new_phone": change.new_phone_masked or None,
        "started_at": change.started_at,
        "next_step": NEXT_STEP.get(change.status) if change.is_open else None,
    }


def own_change(user, change_id: int) -> PhoneChange:
    try:
        return selectors.phone_change_of(user, change_id)
    except PhoneChange.DoesNotExist:
        raise Http404 from None


@router.get("", response={200: PhoneChangeOut, **ERRORS})
def current(request):
    """The open phone change, if any (404 when none)."""
    change = selectors.open_phone_change(request.auth.user)
    if change is None:
        raise Http404
    return change_out(change)


@router.post("", response={201: PhoneChangeOut, **ERRORS})
def start(request):
    """Start a change: a code goes to the current number."""
    user = sensitive(request)
    return Status(201, change_out(phone_change_start(actor=user)))


@router.post("/{id:change_id}/old", response={200: PhoneChangeOut, **ERRORS})
def confirm_old(request, change_id: ObjectId, payload: CodeIn):
    user = sensitive(request)
    change = own_change(user, change_id)
    code = valid(CodeForm({"code": payload.code}))["code"]
    return change_out(phone_change_confirm_old(actor=user, change=change, code=code))


@router.post("/{id:change_id}/new", response={200: PhoneChangeOut, **ERRORS})
def set_new(request, change_id: ObjectId, payload: NewPhoneIn):
    """The new number: a code goes to it."""
    user = sensitive(request)
    change = own_change(user, change_id)
    new_phone = valid(NewPhoneForm({"new_phone": payload.new_phone}))["new_phone"]
    return change_out(phone_change_set_new(actor=user, change=change, new_phone=new_phone))


@router.post("/{id:change_id}/confirm", response={200: PhoneChangeOut, **ERRORS})
def confirm_new(request, change_id: ObjectId, payload: CodeIn):
    """The new number's code: the number changes (every other device is signed out), or the
    change waits for review when the carrier does not confirm it (status in_review)."""
    user = sensitive(request)
    change = own_change(user, change_id)
    code = valid(CodeForm({"code": payload.code}))["code"]
    user = phone_change_confirm_new(actor=user, change=change, code=code)
    device_token_keep(token=request.auth, user=user)
    change.refresh_from_db()
    return change_out(change)


@router.post("/{id:change_id}/code", response={200: CodeSent, **ERRORS})
def resend(request, change_id: ObjectId):
    """Send the code of the step the change is at again."""
    user = sensitive(request)
    change = own_change(user, change_id)
    if not change.is_open:
        raise ApiProblem(422, "not_open", _("This phone change has ended. Start again."))
    phone_change_send_code(actor=user, change=change)
    to_new = change.status == ChangeStatus.NEW_SENT
    phone = change.new_phone_masked if to_new else user.masked_phone
    return {"detail": _("We sent a new code."), "phone": phone}


@router.post("/{id:change_id}/cancel", response={200: Done, **ERRORS})
def cancel(request, change_id: ObjectId):
    require_recent_password(request)
    user = request.auth.user
    change = own_change(user, change_id)
    phone_change_cancel(actor=user, change=change)
    return {"detail": _("The phone change is cancelled; your number is unchanged.")}
