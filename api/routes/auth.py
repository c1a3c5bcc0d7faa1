"""Registration, two-step sign-in, sign-out and re-authentication for apps.

The same forms and services as the pages (accounts.views.auth); what differs is only where the
state between steps lives: a sign-in ticket instead of the session, a device token at the end.
"""

from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Router, Status

from accounts.forms import (
    CodeForm,
    LoginForm,
    PasswordForm,
    PasswordResetCompleteForm,
    PhoneForm,
    RegisterCompleteForm,
)
from accounts.models import SmsCode
from accounts.policies import current_policy
from accounts.services import (
    CodeSendRefused,
    login_second_factor_verify,
    logout_record,
    password_check,
    password_reset_complete,
    password_reset_start,
    reauth_record,
    sms_code_send,
    user_register,
)
from api import present
from api.problems import form_problem
from api.schemas import (
    CodeSent,
    Done,
    PasswordIn,
    PasswordResetIn,
    Problem,
    RegisterCompleteIn,
    RegisterIn,
    SignInIn,
    SignInStarted,
    SignInVerifyIn,
    TicketIn,
    TokenOut,
)
from api.services import (
    device_token_create,
    device_token_reauth,
    device_token_revoke,
    sessions_end_all,
    sign_in_ticket_create,
    sign_in_ticket_find,
)
from lending.pii import mask_phone
from privacy.services import account_closure_cancel

router = Router(tags=["sign-in"])
Purpose = SmsCode.Purpose
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem}


NEW_PASSWORD = {"new_password1": "new_password", "new_password2": "new_password_again"}


def valid(form, names: dict | None = None):
    """The form's cleaned data, or a 422 problem naming the API's fields (``names``: the form's
    field name -> the API's, where they differ)."""
    if not form.is_valid():
        raise form_problem(form, names or {})
    return form.cleaned_data


def _token_answer(token, secret) -> dict:
    return {
        "token": secret,
        "token_id": token.pk,
        "device_name": token.device_name,
        "expires_at": present.token_expiry(token),
    }


@router.post("/register", auth=None, response={200: CodeSent, **ERRORS})
def register(request, payload: RegisterIn):
    """Send the registration code to a mobile number (the same answer whether it has an account)."""
    phone = valid(PhoneForm({"phone": payload.phone}))["phone"]
    sms_code_send(purpose=Purpose.REGISTER, target=phone, phone=phone)
    return {
        "detail": _("We sent a code to %(phone)s.") % {"phone": mask_phone(phone)},
        "phone": mask_phone(phone),
    }


@router.post("/register/complete", auth=None, response={201: TokenOut, **ERRORS})
def register_complete(request, payload: RegisterCompleteIn):
    """The code, a password and the privacy policy's consent (GET /policies/privacy) open the
    account; the device is signed in (the code was the second factor)."""
    phone = valid(PhoneForm({"phone": payload.phone}))["phone"]
    policy = current_policy("privacy")
    data = valid(
        RegisterCompleteForm(
            {
                "code": payload.code,
                "new_password1": payload.password,
                "new_password2": payload.password_again,
                "privacy_version": payload.privacy_version,
                "privacy_sha256": payload.privacy_sha256,
                "accept_privacy": payload.accept_privacy or "",
            },
            policy=policy,
        ),
        {"new_password1": "password", "new_password2": "password_again"},
    )
    user, _device = user_register(
        phone=phone,
        code=data["code"],
        password=data["new_password1"],
        privacy=policy,
        language=translation.get_language(),
    )
    token, secret = device_token_create(
        user=user, device_id=payload.device_id, device_name=payload.device_name
    )
    return Status(201, _token_answer(token, secret))


@router.post("/sign-in", auth=None, response={200: SignInStarted, **ERRORS})
def sign_in(request, payload: SignInIn):
    """Step one: mobile number and password. Sends the login code; answers a ticket for step two."""
    data = valid(LoginForm({"phone": payload.phone, "password": payload.password}))
    user = password_check(phone=data["phone"], password=data["password"])
    ticket = sign_in_ticket_create(user=user, device_id=payload.device_id, device_name=payload.device_name)
    try:
        sms_code_send(purpose=Purpose.LOGIN, target=user.pk, phone=user.phone, user=user)
    except CodeSendRefused as exc:  # a live code may still be on the phone: the ticket stands
        return {"ticket": ticket, "phone": user.masked_phone, "code_sent": False, "detail": exc.message}
    detail = _("We sent a code to %(phone)s.") % {"phone": user.masked_phone}
    return {"ticket": ticket, "phone": user.masked_phone, "code_sent": True, "detail": detail}


@router.post("/sign-in/code", auth=None, response={200: CodeSent, **ERRORS})
def sign_in_resend(request, payload: TicketIn):
    """Send the login code again (the limits of the pages apply: 429 with Retry-After)."""
    user = sign_in_ticket_find(payload.ticket).user
    sms_code_send(purpose=Purpose.LOGIN, target=user.pk, phone=user.phone, user=user)
    return {"detail": _("We sent a new code."), "phone": user.masked_phone}


@router.post("/sign-in/verify", auth=None, response={201: TokenOut, **ERRORS})
def sign_in_verify(request, payload: SignInVerifyIn):
    """Step two: the SMS code. Only now is a device token made."""
    ticket = sign_in_ticket_find(payload.ticket)
    code = valid(CodeForm({"code": payload.code}))["code"]
    login_second_factor_verify(user=ticket.user, code=code)
    token, secret = device_token_create(
        user=ticket.user, device_id=ticket.device_id, device_name=ticket.device_name, ticket=ticket
    )
    cancelled = account_closure_cancel(actor=ticket.user)  # as the web sign-in does (privacy.signals)
    return Status(201, {**_token_answer(token, secret), "closure_cancelled": cancelled is not None})


@router.post("/password-reset", auth=None, response={200: CodeSent, **ERRORS})
def password_reset(request, payload: RegisterIn):
    """Send a password reset code (the same answer whether the number has an account)."""
    phone = valid(PhoneForm({"phone": payload.phone}))["phone"]
    password_reset_start(phone=phone)
    masked = mask_phone(phone)
    return {
        "detail": _("If %(phone)s has an account, we sent it a code.") % {"phone": masked},
        "phone": masked,
    }


@router.post("/password-reset/complete", auth=None, response={200: Done, **ERRORS})
def password_reset_done(request, payload: PasswordResetIn):
    """The code and a new password; every web session and device token ends. Sign in again."""
    phone = valid(PhoneForm({"phone": payload.phone}))["phone"]
    new = {"new_password1": payload.new_password, "new_password2": payload.new_password_again}
    data = valid(PasswordResetCompleteForm({"code": payload.code, **new}), NEW_PASSWORD)
    password_reset_complete(phone=phone, code=data["code"], new_password=data["new_password1"])
    return {"detail": _("Your password is reset. Sign in with it and an SMS code.")}


@router.post("/sign-out", response={200: Done, **ERRORS})
def sign_out(request):
    """Sign this device out: its token ends."""
    logout_record(actor=request.auth.user)
    device_token_revoke(actor=request.auth.user, token_id=request.auth.pk)
    return {"detail": _("You are signed out.")}


@router.post("/sign-out-everywhere", response={200: Done, **ERRORS})
def sign_out_all(request):
    """End every web session and every device token of the account, this one included."""
    sessions_end_all(actor=request.auth.user)
    return {"detail": _("You are signed out on every device.")}


@router.post("/reauth", response={200: Done, **ERRORS})
def reauth(request, payload: PasswordIn):
    """Type the password again: sensitive steps on this device are open for REAUTH_MINUTES."""
    password = valid(PasswordForm({"password": payload.password}))["password"]
    user = request.auth.user
    password_check(phone=None, user=user, password=password, step="reauth")
    reauth_record(actor=user)
    device_token_reauth(token=request.auth)
    return {"detail": _("Password confirmed.")}
