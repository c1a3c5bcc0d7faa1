from django.conf import settings
from django.urls import get_script_prefix, get_urlconf

from accounts.decorators import is_signed_in_borrower
from lending.fragments import rendered_once

LOAN_PAGES = {"loans", "loan_detail", "loan_repay", "loan_payoff", "loan_payment"}


def portal(request):
    """The signed-in borrower (both factors passed), and for the header and the tab bar the
    links with the current section marked and the unread notifications counted.

    ``dev_sms`` points newcomers to the development SMS page while DEBUG is on.
    """
    user = getattr(request, "user", None)
    if not is_signed_in_borrower(user):
        return {"borrower": None, "dev_sms": settings.DEBUG}
    unread = user.unread_notifications
    chrome = {"section": section_of(request.resolver_match), "unread_notifications": unread}
    key = (chrome["section"], unread, get_script_prefix(), get_urlconf())
    return {
        "borrower": user,
        "site_nav": rendered_once("_site_nav.html", chrome, key),
        "tab_bar": rendered_once("_tab_bar.html", chrome, key),
        "dev_sms": settings.DEBUG,
    }


def section_of(match) -> str:
    """Which part of the portal a page belongs to, as the header and the tab bar mark it:
    loans, cards, security, notifications, account (the rest of the account, privacy and help)."""
    namespace, name = (match.namespace, match.url_name) if match else ("", "")
    if name in LOAN_PAGES:
        return "loans"
    if namespace == "cards":
        return "cards"
    if name in ("security", "notifications"):
        return name
    if namespace in ("accounts", "privacy", "support"):
        return "account"
    return ""
