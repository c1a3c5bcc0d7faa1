"""What the platform holds about a borrower, why, how long, and what closure does to it.

The one table of retention rules (PIPL art. 17, 19, 47): the privacy centre shows it, and
account closure (privacy.services.closure) carries out its ``at_closure`` column. Ten years is
what the anti-money-laundering law and the lending rules keep identification and transaction
records for (CLOSURE_LEGAL_RETENTION_DAYS).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


class AtClosure:
    DELETE = "delete"  # removed at closure
    RESTRICT = "restrict"  # kept for the legal period, encrypted, officers only, reveal audited
    DEIDENTIFY = "deidentify"  # kept masked (no name, number or ID in it), tied to no person in the portal


@dataclass(frozen=True)
class DataKind:
    key: str
    label: str
    held: str
    purpose: str
    kept: str
    at_closure: str
    recipients: tuple[str, ...] = ()


RETENTION: tuple[DataKind, ...] = (
    DataKind(
        "account",
        _("Account"),
        _("Mobile number, password (as a one-way hash), language, sign-in times"),
        _("Signing you in, sending codes, telling you of changes"),
        _(
            "While the account is open. At closure the number is kept restricted for ten years and "
            "freed for a new registration; the password is deleted."
        ),
        AtClosure.RESTRICT,
        ("sms",),
    ),
    DataKind(
        "identity",
        _("Identity"),
        _("Real name, resident ID number (encrypted), birth date"),
        _("Real-name verification required for lending; checking that cards are in your name"),
        _("Ten years after the account is closed (anti-money-laundering law), restricted."),
        AtClosure.RESTRICT,
        ("bank", "identity"),
    ),
    DataKind(
        "cards",
        _("Bank cards and debit authorisations"),
        _(
            "Bank, card type, first 6 and last 4 digits, reserved phone (encrypted), the bank's "
            "agreement token (encrypted); never the full card number"
        ),
        _("Collecting repayments you authorised"),
        _(
            "Authorisations are revoked at the bank at closure; the masked card records are kept "
            "ten years as lending records."
        ),
        AtClosure.DEIDENTIFY,
        ("bank",),
    ),
    DataKind(
        "loans",
        _("Loans, installments and debits"),
        _("Amounts, dates, schedule, every debit attempt and its result"),
        _("Managing your loans; records the lending rules require"),
        _("Ten years after the last repayment (lending records), restricted to compliance."),
        AtClosure.DEIDENTIFY,
        ("bank",),
    ),
    DataKind(
        "consents",
        _("Consents"),
        _("Which policy text you accepted or withdrew, when, from which address"),
        _("Proving what you agreed to"),
        _("Ten years after the account is closed."),
        AtClosure.DEIDENTIFY,
    ),
    DataKind(
        "phone_changes",
        _("Phone changes and identity checks"),
        _("Masked old and new numbers, carrier and face-check results (never images)"),
        _("Keeping your account safe from takeover"),
        _("Ten years after the account is closed, masked; the encrypted new numbers are deleted."),
        AtClosure.DEIDENTIFY,
        ("identity",),
    ),
    DataKind(
        "support",
        _("Help requests and complaints"),
        _("Your messages and our replies (card, ID and phone numbers masked)"),
        _("Answering you; the complaint records regulators ask for"),
        _("Three years after the request is resolved; the contact number is deleted at closure."),
        AtClosure.DEIDENTIFY,
        ("sms",),
    ),
    DataKind(
        "notifications",
        _("Notifications"),
        _("The messages in your inbox"),
        _("Telling you what happened on your account"),
        _("While the account is open; deleted at closure."),
        AtClosure.DELETE,
    ),
    DataKind(
        "security",
        _("Security activity"),
        _("What was done on your account, when and from which address (numbers masked)"),
        _("Security, fraud prevention, and the audit trail the law requires"),
        _("Ten years; it never holds a full card, ID or phone number."),
        AtClosure.DEIDENTIFY,
    ),
)


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    receives: str
    why: str


RECIPIENTS: tuple[Recipient, ...] = (
    Recipient(
        "bank",
        _("The bank channel (UnionPay agreement payment or a licensed payment institution)"),
        _("Your name, ID number, card number and reserved phone when you bind a card; amounts of debits"),
        _("Checking the card is yours, the debit authorisation, collecting repayments"),
    ),
    Recipient(
        "sms",
        _("The SMS provider"),
        _("Your mobile number and the text of each message (codes, notices)"),
        _("Sending you codes and notices"),
    ),
    Recipient(
        "identity",
        _("The identity provider (Tencent Cloud FaceID)"),
        _(
            "Your name, ID number and mobile number; the face video in its own page, only with "
            "your separate consent"
        ),
        _("Checking your identity with the authority and the carrier; the face check for a lost phone"),
    ),
)
