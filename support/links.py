"""Where a refusal that says "contact customer service" links: the help request page, prefilled."""

from urllib.parse import urlencode

from django.urls import reverse

# (service's refusal code) -> help request category, for refusals that point to customer service.
REFUSAL_CATEGORIES = {
    "bound_elsewhere": "card",  # card bound to another account
    "taken": "phone",  # phone number or identity already on another account
    "too_many_mismatches": "other",
    "account_frozen": "frozen",
}


def help_url(category: str = "", **about) -> str:
    query = {key: value for key, value in {"category": category, **about}.items() if value}
    return reverse("support:new") + (f"?{urlencode(query)}" if query else "")


def help_url_for_refusal(code: str, **about) -> str:
    """The help link for a refusal, or "" when the refusal does not point to customer service."""
    category = REFUSAL_CATEGORIES.get(code)
    return help_url(category, **about) if category else ""
