"""In-app notification texts, rendered in the reader's language when shown.

Parameters are stored as data, not text, so they too read in the reader's language: a card as
``{"bin", "last4"}`` (its bank's name looked up when shown), amounts as decimal strings and dates
as ISO dates (formatted when shown). Texts stored before this are shown as they are.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from lending.printed_dates import printed

TEXTS = {
    "phone_changed": (
        _("Your phone number was changed"),
        _(
            "Your account is now bound to %(new)s instead of %(old)s. "
            "If this wasn't you, freeze your account now."
        ),
    ),
    "password_changed": (
        _("Your password was changed"),
        _("Your sign-in password was changed and your other devices were signed out."),
    ),
    "password_reset": (
        _("Your password was reset"),
        _("Your password was reset with an SMS code and every device was signed out."),
    ),
    "identity_verified": (
        _("Identity verified"),
        _("Your real name and ID number %(id_number)s are verified."),
    ),
    "account_frozen": (
        _("Your account is frozen"),
        _("Sensitive operations are paused until our compliance team has reviewed your account."),
    ),
    "account_unfreeze_refused": (
        _("Your account stays frozen"),
        _("Our compliance team reviewed your account and keeps it frozen: %(reason)s"),
    ),
    "phone_change_in_review": (
        _("Your phone change is being reviewed"),
        _(
            "The carrier did not confirm that %(new)s is registered in your name, so a compliance "
            "officer will review the change. Your number stays the same until then."
        ),
    ),
    "phone_change_rejected": (
        _("Your phone change was not approved"),
        _("Your number was not changed: %(reason)s"),
    ),
    "phone_lost_rejected": (
        _("Your lost-phone request was not approved"),
        _("Your number was not changed: %(reason)s"),
    ),
    "card_bound": (
        _("Card bound"),
        _("%(card)s is bound to your account with a debit authorisation."),
    ),
    "card_unbound": (
        _("Card unbound"),
        _("%(card)s is unbound and its debit authorisation is revoked."),
    ),
    "card_unbind_in_review": (
        _("Card unbind under review"),
        _("Unbinding %(card)s needs a check by our compliance team; the card stays bound meanwhile."),
    ),
    "card_unbind_rejected": (
        _("Card stays bound"),
        _("Unbinding %(card)s was not approved: %(reason)s"),
    ),
    "card_bind_rejected": (
        _("Card binding not approved"),
        _("Binding %(card)s was not approved: %(reason)s"),
    ),
    "mandate_ended_at_bank": (
        _("Debit authorisation ended at the bank"),
        _(
            "Your bank says the debit authorisation of %(card)s has ended. Loans cannot be repaid "
            "from it until you bind it again or choose another repayment card."
        ),
    ),
    "card_closed_at_bank": (
        _("Card closed by the bank"),
        _(
            "Your bank says %(card)s is closed, so loans cannot be repaid from it. "
            "Choose another repayment card."
        ),
    ),
    "repayment_card_changed": (
        _("Repayment card changed"),
        _("Your loans are now repaid from %(card)s."),
    ),
    "debit_failed_retry": (
        _("Repayment not collected"),
        _(
            "We could not collect installment %(number)s (¥%(amount)s) from %(card)s. "
            "We will try again on %(retry_on)s; please make sure the card holds enough money, "
            "or repay it now from any of your cards."
        ),
    ),
    "debit_failed_stopped": (
        _("Repayment not collected: action needed"),
        _(
            "We could not collect installment %(number)s (¥%(amount)s) and will not try again "
            "automatically. Repay it now from a card that can be debited, and choose that card "
            "as the repayment card."
        ),
    ),
    "repayment_card_missing": (
        _("Your next repayment has no card to be collected from"),
        _(
            "Installment %(number)s (¥%(amount)s) is due on %(due_date)s, but your repayment card "
            "cannot be debited. Bind a card and choose it as the repayment card, or repay it "
            "yourself on the loan page."
        ),
    ),
    "account_unfrozen": (
        _("Your account is unfrozen"),
        _("Our compliance team reviewed your account; you can use it normally again."),
    ),
    "support_reply": (
        _("Customer service answered your help request"),
        _("There is a reply on your help request #%(case)s."),
    ),
    "data_copy_ready": (
        _("Your copy of your data is ready"),
        _("Download it from the privacy centre; it can be downloaded once, until %(until)s."),
    ),
    "account_closure_cancelled": (
        _("Closing your account was cancelled"),
        _("You signed in during the cooling-off period, so your account stays open."),
    ),
}


AMOUNTS = {"amount"}
DATES = {"retry_on", "due_date", "until"}


def card_param(card) -> dict:
    """A card as a notification stores it: what names it, in no language."""
    return {"bin": card.bin, "last4": card.last4}


def render(kind: str, params: dict) -> tuple[str, str]:
    title, body = TEXTS[kind]
    return str(title), str(body) % _shown(params) if params else str(body)


def _shown(params: dict) -> dict:
    return {key: _shown_value(key, value) for key, value in params.items()}


def _shown_value(key: str, value):
    if isinstance(value, dict) and "last4" in value:
        from cards.bins import bank_of_bin

        entry = bank_of_bin(value.get("bin", ""))
        return f"{entry.bank_name if entry else ''} **** {value['last4']}".strip()
    try:
        if key in AMOUNTS:
            return number_format(Decimal(value), 2, force_grouping=True)
        if key in DATES:
            return printed(datetime.date.fromisoformat(value))
    except (InvalidOperation, ValueError, TypeError):
        pass  # stored as text before: shown as it is
    return value
