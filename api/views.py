"""The security page's part for apps: devices signed in, signed out one by one or all at once."""

from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import borrower_required
from api.models import DeviceToken
from api.services import device_token_revoke, device_tokens_revoke_all, sessions_end_all


@require_POST
@borrower_required
def device_revoke(request, token_id: int):
    try:
        token = device_token_revoke(actor=request.user, token_id=token_id)
    except DeviceToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("%(device)s is signed out.") % {"device": token.device_name})
    return redirect("accounts:security")


@require_POST
@borrower_required
def devices_revoke_all(request):
    device_tokens_revoke_all(actor=request.user)
    messages.success(request, _("The app is signed out on every device."))
    return redirect("accounts:security")


@require_POST
@borrower_required
def everywhere(request):
    """Sign out every web session and every app, this browser included."""
    sessions_end_all(actor=request.user)
    auth_logout(request)
    messages.success(request, _("You are signed out on every device."))
    return redirect("accounts:login")
