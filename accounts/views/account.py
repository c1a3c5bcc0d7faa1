"""The signed-in borrower's own account: overview, security activity, password, identity, language."""

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts import selectors, session
from accounts.decorators import (
    borrower_required,
    frozen_refused,
    is_signed_in_borrower,
    recent_password_required,
)
from accounts.devices import device_label
from accounts.forms import IdentityForm, PasswordChangeForm, PasswordForm
from accounts.services import (
    DomainError,
    LoginRefused,
    account_freeze,
    identity_verify,
    password_change,
    password_check,
    reauth_record,
    user_language_set,
)
from accounts.views.common import safe_next
from api.services import live_tokens
from lending.paging import ReadFirstPaginator
from lending.printed_dates import printed
from support.links import help_url_for_refusal


@borrower_required
def home(request):
    user = request.user
    context = {
        "identity": selectors.identity_of(user),
        "last_phone_change": selectors.last_phone_change_at(user),
    }
    return render(request, "accounts/home.html", context)


@borrower_required
def security(request):
    events = ReadFirstPaginator(selectors.security_events_to_page(request.user), 20)
    page = events.get_page(request.GET.get("page"))
    context = {"page": page, "events": _shown_events(page), "devices": live_tokens(request.user)}
    return render(request, "accounts/security.html", context)


def _shown_events(events) -> list[SimpleNamespace]:
    """Each event as the page shows it, read once here: the template looking up keys an event's
    data may not have (``event.data.phone``) paid for an exception per missing key and row. Rows
    are objects, not dicts, for the same reason: Jinja2 reads ``row.action`` as an attribute first."""
    rows = []
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        rows.append(
            SimpleNamespace(
                action=event.get_action_display(),
                phone=data.get("phone"),
                old=data.get("old", ""),
                new=data.get("new"),
                when=printed(timezone.localtime(event.occurred_at)),
                actor_kind=event.actor_kind,
                ip=event.ip,
                device=device_label(event.user_agent),
            )
        )
    return rows


@borrower_required
def freeze(request):
    if request.method == "POST":
        user = account_freeze(actor=request.user, user=request.user, reason="reported by the borrower")
        update_session_auth_hash(request, user)
        messages.warning(request, _("Your account is frozen and your other devices are signed out."))
        return redirect("accounts:security")
    return render(request, "accounts/freeze_confirm.html")


@borrower_required
def reauth(request):
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_check(
                phone=None, user=request.user, password=form.cleaned_data["password"], step="reauth"
            )
        except LoginRefused as exc:
            form.add_error("password", exc.as_form_error())
        else:
            reauth_record(actor=request.user)
            session.mark_reauthenticated(request)
            return redirect(safe_next(request, reverse("accounts:home")))
    return render(request, "accounts/reauth.html", {"form": form, "next": safe_next(request, "")})


@borrower_required
def password_change_view(request):
    form = PasswordChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            password_check(
                phone=None,
                user=request.user,
                password=form.cleaned_data["old_password"],
                step="password_change",
            )
        except LoginRefused as exc:
            form.add_error("old_password", exc.as_form_error())
        else:
            user = password_change(actor=request.user, new_password=form.cleaned_data["new_password1"])
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password is changed. Your other devices are signed out."))
            return redirect("accounts:home")
    return render(request, "accounts/password_change.html", {"form": form})


@frozen_refused
@recent_password_required
def identity(request):
    current = selectors.identity_of(request.user)
    form = IdentityForm(request.POST or None) if current is None else None
    help_url = ""  # a refusal that points to customer service links to a help request
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            identity_verify(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.as_form_error())
            help_url = help_url_for_refusal(exc.code)
        else:
            messages.success(request, _("Your identity is verified."))
            return redirect("accounts:identity")
    context = {"identity": current, "form": form, "help_url": help_url}
    return render(request, "accounts/identity.html", context)


@require_POST
def language(request):
    """Django's set_language, and the borrower's stored language for texts sent later."""
    response = set_language(request)
    code = request.POST.get("language", "")
    user = request.user
    if check_for_language(code) and is_signed_in_borrower(user):
        user_language_set(actor=user, language=code)
    return response
