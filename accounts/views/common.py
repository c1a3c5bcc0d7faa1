"""Small helpers the portal views share."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from accounts.services import CodeSendRefused

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def safe_next(request, default: str) -> str:
    """The ``next`` parameter if it points inside this site, else ``default`` (no open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def sign_in(request, user, device):
    """Both factors passed: a new session key with the user and the device that verified them."""
    auth_login(request, user, backend=MODEL_BACKEND)
    otp_login(request, device)


def remember_language(response, user):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        user.language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response


def send_code(request, send, sent_message: str) -> bool:
    """Call ``send()`` (a code-sending service) and tell the borrower how it went."""
    try:
        send()
    except CodeSendRefused as exc:
        exc.tell(request, messages.WARNING)
        return False
    messages.success(request, sent_message)
    return True
