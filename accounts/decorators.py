from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.session import reauthenticated_within


def is_signed_in_borrower(user) -> bool:
    """A borrower's session that passed both factors (password and SMS code)."""
    return bool(user and user.is_authenticated and user.is_borrower and user.is_verified())


def borrower_required(view):
    """A borrower's session that passed both factors (password and SMS code)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_signed_in_borrower(request.user):
            return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
        return view(request, *args, **kwargs)

    return wrapped


def recent_password_required(view):
    """Sensitive steps: the password typed again within REAUTH_MINUTES."""

    @wraps(view)
    @borrower_required
    def wrapped(request, *args, **kwargs):
        if not reauthenticated_within(request, settings.REAUTH_MINUTES):
            return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapped


def frozen_refused(view):
    """Sensitive steps of a frozen account: a page that says so at once, never a form that fails
    only on submit (the services refuse them too)."""

    @wraps(view)
    @borrower_required
    def wrapped(request, *args, **kwargs):
        if request.user.is_frozen:
            return render(request, "accounts/frozen.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
