"""Changing the bound phone with the old one lost (DESIGN.md path b), from an app: no sign-in.

As on the pages (accounts.views.phone_lost), with a ticket (header ``Lost-Phone-Ticket``) where
the pages keep the request in the session. The face check is the identity provider's hosted
liveness page: ``POST /phone-lost/face`` answers its URL; the app opens it, the provider sends
the browser back to ``/api/v1/phone-lost/face/return?token=...``, and the app posts that token to
``/phone-lost/face/finish``. The result is asked of the provider, never read from the app.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Header, Router, Schema, Status
from pydantic import Field

from accounts import selectors
from accounts.forms import CodeForm, PhoneLostForm
from accounts.models import PhoneChange
from accounts.policies import current_policy
from accounts.services import (
    phone_lost_cancel,
    phone_lost_confirm,
    phone_lost_face_finish,
    phone_lost_face_start,
    phone_lost_send_code,
)
from accounts.services import phone_lost_start as lost_start
from api.problems import ApiProblem
from api.routes.auth import ERRORS, valid
from api.schemas import CodeIn, CodeSent, Done
from api.services import lost_phone_ticket_create, lost_phone_ticket_find

router = Router(tags=["lost phone"], auth=None)
TicketHeader = Header(..., alias="Lost-Phone-Ticket", max_length=100)


class LostPhoneIn(Schema):
    phone: str = Field(max_length=32, description="The number the account has now (the lost phone)")
    password: str = Field(max_length=128)
    real_name: str = Field(max_length=40)
    id_number: str = Field(max_length=18)
    new_phone: str = Field(max_length=32)


class LostPhoneOut(Schema):
    status: str
    status_display: str
    new_phone: str | None = Field(description="Masked")
    next_step: str | None = Field(description="confirm_new, face_check or none (wait for the review)")
    case: int | None = Field(description="The review case, once opened")
    case_status: str | None
    decision_reason: str | None = Field(description="Why a rejected request was rejected")


class LostPhoneStarted(LostPhoneOut):
    ticket: str = Field(description="Shown once: send it as the Lost-Phone-Ticket header")


class FaceIn(Schema):
    consent: bool = Field(description="The biometrics consent (GET /policies/biometrics) accepted")


class FaceOut(Schema):
    liveness_url: str = Field(description="The provider's hosted page: open it in a browser or web view")


class FaceFinishIn(Schema):
    token: str = Field(max_length=64, description="The token the provider sent back to the return URL")


class FaceReturn(Schema):
    token: str
    detail: str


NEXT = {PhoneChange.Status.NEW_SENT: "confirm_new", PhoneChange.Status.FACE_CHECK: "face_check"}


def status_of(change: PhoneChange) -> dict:
    change.refresh_from_db()
    case = selectors.lost_phone_case(change)
    return {
        "status": change.status,
        "status_display": str(change.get_status_display()),
        "new_phone": change.new_phone_masked or None,
        "next_step": NEXT.get(change.status) if change.is_open else None,
        "case": case.pk if case else None,
        "case_status": case.status if case else None,
        "decision_reason": case.outcome_reason
        if case and case.outcome_reason and change.status == PhoneChange.Status.REJECTED
        else None,
    }


@router.post("", response={201: LostPhoneStarted, **ERRORS})
def start(request, payload: LostPhoneIn):
    """Password, name and ID number of the account, and the new number: a code goes to it."""
    data = valid(PhoneLostForm(payload.dict()))
    change = lost_start(**data)
    return Status(201, {**status_of(change), "ticket": lost_phone_ticket_create(change=change)})


@router.get("", response={200: LostPhoneOut, **ERRORS})
def status(request, ticket: str = TicketHeader):
    return status_of(lost_phone_ticket_find(ticket))


@router.post("/code", response={200: LostPhoneOut, **ERRORS})
def confirm(request, payload: CodeIn, ticket: str = TicketHeader):
    """The new number's code: then the face check, or the compliance team's review."""
    change = lost_phone_ticket_find(ticket)
    code = valid(CodeForm({"code": payload.code}))["code"]
    phone_lost_confirm(change=change, code=code)
    return status_of(change)


@router.post("/resend", response={200: CodeSent, **ERRORS})
def resend(request, ticket: str = TicketHeader):
    change = lost_phone_ticket_find(ticket)
    if not change.is_open:
        raise ApiProblem(422, "not_open", _("This request has expired. Start again."))
    phone_lost_send_code(change=change)
    return {"detail": _("We sent a new code."), "phone": change.new_phone_masked}


@router.post("/face", response={200: FaceOut, **ERRORS})
def face_start(request, payload: FaceIn, ticket: str = TicketHeader):
    """Record the biometrics consent and open the provider's liveness page."""
    change = lost_phone_ticket_find(ticket)
    if not payload.consent:
        raise ApiProblem(
            422, "consent_required", _("Accept the processing of your facial information first.")
        )
    check = phone_lost_face_start(
        change=change,
        consent=current_policy("biometrics"),
        return_url=f"{settings.SITE_URL}/api/v1/phone-lost/face/return",
    )
    return {"liveness_url": check.liveness_url}


@router.get("/face/return", response={200: FaceReturn, **ERRORS})
def face_return(request, token: str = ""):
    """Where the provider's page sends the browser back: the app reads the token from here."""
    return {"token": token[:64], "detail": _("The face check is done. Return to the app.")}


@router.post("/face/finish", response={200: LostPhoneOut, **ERRORS})
def face_finish(request, payload: FaceFinishIn, ticket: str = TicketHeader):
    """The provider's token: the result is asked of the provider; a pass opens the review case."""
    change = lost_phone_ticket_find(ticket)
    phone_lost_face_finish(change=change, biz_token=payload.token)
    return status_of(change)


@router.post("/withdraw", response={200: Done, **ERRORS})
def withdraw(request, ticket: str = TicketHeader):
    change = lost_phone_ticket_find(ticket)
    phone_lost_cancel(actor=change.user, change=change)
    return {"detail": _("Your request is withdrawn; your number is unchanged.")}
