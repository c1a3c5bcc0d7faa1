"""Registration, two-step login, logout and password reset."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import session
from accounts.decorators import is_signed_in_borrower
from accounts.forms import CodeForm, LoginForm, PasswordResetCompleteForm, PhoneForm, RegisterCompleteForm
from accounts.models import SmsCode, User
from accounts.policies import current_policy
from accounts.services import (
    AlreadyRegistered,
    CodeRefused,
    LoginRefused,
    code_status,
    login_second_factor_verify,
    logout_record,
    password_check,
    password_reset_complete,
    password_reset_start,
    sms_code_send,
    user_register,
)
from accounts.views.common import remember_language, safe_next, send_code, sign_in
from lending.pii import mask_phone

FLOW_MINUTES = 15
Purpose = SmsCode.Purpose


def _send_register_code(phone: str) -> None:
    sms_code_send(purpose=Purpose.REGISTER, target=phone, phone=phone)


def register(request):
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        session.remember(request, "register", phone=phone)
        sent = _("We sent a code to %(phone)s.") % {"phone": mask_phone(phone)}
        send_code(request, lambda: _send_register_code(phone), sent)
        return redirect("accounts:register_complete")
    return render(request, "accounts/register.html", {"form": form})


def register_complete(request):
    state = session.recall(request, "register", max_minutes=FLOW_MINUTES)
    if state is None:
        messages.info(request, _("Enter your mobile number to start."))
        return redirect("accounts:register")
    policy = current_policy("privacy")
    form = RegisterCompleteForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            user, device = user_register(
                phone=state["phone"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["new_password1"],
                privacy=policy,
                language=translation.get_language(),
            )
        except AlreadyRegistered as exc:
            session.forget(request, "register")
            exc.tell(request)
            return redirect("accounts:login")
        except CodeRefused as exc:
            form.add_error("code", exc.as_form_error())
        else:
            session.forget(request, "register")
            sign_in(request, user, device)
            session.mark_reauthenticated(request)
            messages.success(request, _("Welcome! Your account is open."))
            return redirect("accounts:home")
    context = {
        "form": form,
        "policy": policy,
        "phone": mask_phone(state["phone"]),
        "code_status": code_status(purpose=Purpose.REGISTER, target=state["phone"], phone=state["phone"]),
    }
    return render(request, "accounts/register_complete.html", context)


@require_POST
def register_resend(request):
    state = session.recall(request, "register", max_minutes=FLOW_MINUTES)
    if state is None:
        return redirect("accounts:register")
    send_code(request, lambda: _send_register_code(state["phone"]), _("We sent a new code."))
    return redirect("accounts:register_complete")


def _send_login_code(user: User) -> None:
    sms_code_send(purpose=Purpose.LOGIN, target=user.pk, phone=user.phone, user=user)


def login(request):
    if is_signed_in_borrower(request.user):
        return redirect(safe_next(request, reverse("accounts:home")))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = password_check(phone=form.cleaned_data["phone"], password=form.cleaned_data["password"])
        except LoginRefused as exc:
            form.add_error(None, exc.as_form_error())
        else:
            request.session.cycle_key()
            session.remember(
                request, "login", user_id=user.pk, next=safe_next(request, reverse("accounts:home"))
            )
            sent = _("We sent a code to %(phone)s.") % {"phone": user.masked_phone}
            send_code(request, lambda: _send_login_code(user), sent)
            return redirect("accounts:login_verify")
    return render(request, "accounts/login.html", {"form": form, "next": safe_next(request, "")})


def _pending_login_user(request) -> tuple[dict, User] | tuple[None, None]:
    state = session.recall(request, "login", max_minutes=settings.LOGIN_PENDING_MINUTES)
    user = User.objects.filter(pk=state["user_id"], is_active=True).first() if state else None
    return (state, user) if user else (None, None)


def login_verify(request):
    state, user = _pending_login_user(request)
    if user is None:
        messages.info(request, _("Sign in with your mobile number and password."))
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = login_second_factor_verify(user=user, code=form.cleaned_data["code"])
        except CodeRefused as exc:
            form.add_error("code", exc.as_form_error())
        else:
            session.forget(request, "login")
            sign_in(request, user, device)
            session.mark_reauthenticated(request)
            return remember_language(redirect(state["next"]), user)
    context = {
        "form": form,
        "phone": user.masked_phone,
        "code_status": code_status(purpose=Purpose.LOGIN, target=user.pk, phone=user.phone),
    }
    return render(request, "accounts/login_verify.html", context)


@require_POST
def login_resend(request):
    _state, user = _pending_login_user(request)
    if user is None:
        return redirect("accounts:login")
    send_code(request, lambda: _send_login_code(user), _("We sent a new code."))
    return redirect("accounts:login_verify")


@require_POST
def logout(request):
    if request.user.is_authenticated:
        logout_record(actor=request.user)
    auth_logout(request)
    messages.success(request, _("You are signed out."))
    return redirect("home")


def password_reset(request):
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        session.remember(request, "reset", phone=phone)
        sent = _("If %(phone)s has an account, we sent it a code.") % {"phone": mask_phone(phone)}
        send_code(request, lambda: password_reset_start(phone=phone), sent)
        return redirect("accounts:password_reset_complete")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_done(request):
    state = session.recall(request, "reset", max_minutes=FLOW_MINUTES)
    if state is None:
        return redirect("accounts:password_reset")
    form = PasswordResetCompleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_complete(
                phone=state["phone"],
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password1"],
            )
        except CodeRefused as exc:
            form.add_error("code", exc.as_form_error())
        else:
            session.forget(request, "reset")
            messages.success(request, _("Your password is reset. Sign in with it and an SMS code."))
            return redirect("accounts:login")
    phone = state["phone"]
    context = {
        "form": form,
        "phone": mask_phone(phone),
        "code_status": code_status(purpose=Purpose.PASSWORD_RESET, target=phone, phone=phone),
    }
    return render(request, "accounts/password_reset_complete.html", context)


@require_POST
def password_reset_resend(request):
    state = session.recall(request, "reset", max_minutes=FLOW_MINUTES)
    if state is None:
        return redirect("accounts:password_reset")
    sent = _("If this number has an account, we sent it a new code.")
    send_code(request, lambda: password_reset_start(phone=state["phone"]), sent)
    return redirect("accounts:password_reset_complete")
