"""What the reasons stored on history rows (``history_change_reason``) mean, in the reader's language.

The stored text stays a stable English code (exports and the audit trail keep it); the back
office shows its label. A reason with a value in it ("kept after review case #12") is matched
by a pattern and the value carried over. A reason not listed here is shown as stored.
"""

import re

from django.utils.translation import pgettext_lazy

HISTORY = "history reason"  # the translation context: "completed" here is an event, not a column

REASONS = {
    # review cases
    "opened": pgettext_lazy(HISTORY, "case opened"),
    "approved": pgettext_lazy(HISTORY, "approved"),
    "rejected": pgettext_lazy(HISTORY, "rejected"),
    "cancelled": pgettext_lazy(HISTORY, "cancelled"),
    "expired": pgettext_lazy(HISTORY, "expired"),
    "escalated: past its SLA": pgettext_lazy(HISTORY, "escalated: past its SLA"),
    # borrowers' accounts
    "registered": pgettext_lazy(HISTORY, "registered"),
    "language changed": pgettext_lazy(HISTORY, "language changed"),
    "identity verified": pgettext_lazy(HISTORY, "identity verified"),
    "password changed": pgettext_lazy(HISTORY, "password changed"),
    "password reset by SMS code": pgettext_lazy(HISTORY, "password reset with an SMS code"),
    # phone changes
    "started": pgettext_lazy(HISTORY, "phone change started"),
    "current number confirmed": pgettext_lazy(HISTORY, "current number confirmed"),
    "new number entered": pgettext_lazy(HISTORY, "new number entered"),
    "completed": pgettext_lazy(HISTORY, "completed"),
    "replaced by a new phone change": pgettext_lazy(HISTORY, "replaced by a new phone change"),
    "phone changed with the old phone (path a)": pgettext_lazy(HISTORY, "phone changed with the old phone"),
    "lost-phone request started": pgettext_lazy(HISTORY, "lost-phone request started"),
    "replaced by a lost-phone request": pgettext_lazy(HISTORY, "replaced by a lost-phone request"),
    "new number proven; waiting for the face check": pgettext_lazy(
        HISTORY, "new number proven; waiting for the face check"
    ),
    "sent to review": pgettext_lazy(HISTORY, "sent to review"),
    "withdrawn by the borrower": pgettext_lazy(HISTORY, "withdrawn by the borrower"),
    # cards and debit authorisations
    "bound": pgettext_lazy(HISTORY, "bound"),
    "authorised by the borrower": pgettext_lazy(HISTORY, "debit authorised by the borrower"),
    "authorised again by the borrower": pgettext_lazy(HISTORY, "debit authorised again by the borrower"),
    "unbound by the borrower": pgettext_lazy(HISTORY, "unbound by the borrower"),
    "unbind sent to review": pgettext_lazy(HISTORY, "unbinding sent to review"),
    "revoked at the bank": pgettext_lazy(HISTORY, "revoked at the bank"),
    "revoked by the bank (a debit was refused)": pgettext_lazy(
        HISTORY, "revoked by the bank (a debit was refused)"
    ),
    "binding rejected": pgettext_lazy(HISTORY, "binding rejected"),
    "repayment moved to another card": pgettext_lazy(HISTORY, "repayment moved to another card"),
    "chosen as the repayment card": pgettext_lazy(HISTORY, "chosen as the repayment card"),
    # loans and installments
    "disbursed": pgettext_lazy(HISTORY, "disbursed"),
    "scheduled": pgettext_lazy(HISTORY, "scheduled"),
    "paid off": pgettext_lazy(HISTORY, "paid off"),
    "an installment was not collected": pgettext_lazy(HISTORY, "an installment was not collected"),
    "overdue installments collected": pgettext_lazy(HISTORY, "overdue installments collected"),
    "not collected by the close of its due day": pgettext_lazy(
        HISTORY, "not collected by the close of its due day"
    ),
    "retry requested by an officer": pgettext_lazy(HISTORY, "debit retry requested by an officer"),
    "repayment card changed": pgettext_lazy(HISTORY, "repayment card changed"),
    "borrower reminded: no usable repayment card": pgettext_lazy(
        HISTORY, "borrower reminded: no usable repayment card"
    ),
    # freezes, face checks, closures
    "reported by the borrower": pgettext_lazy(HISTORY, "reported by the borrower"),
    "cleared by the borrower's face check": pgettext_lazy(HISTORY, "cleared by the borrower's face check"),
    "closure requested: sessions ended": pgettext_lazy(HISTORY, "closure requested: sessions ended"),
    "cancelled by signing in": pgettext_lazy(HISTORY, "closure cancelled by signing in"),
    # help requests
    "answered": pgettext_lazy(HISTORY, "answered"),
    "the borrower replied": pgettext_lazy(HISTORY, "the borrower replied"),
    "resolved": pgettext_lazy(HISTORY, "resolved"),
    "resolved by an officer": pgettext_lazy(HISTORY, "resolved by an officer"),
}

PATTERNS = [
    (r"kept after review case #(?P<case>\d+)", pgettext_lazy(HISTORY, "kept after review case #%(case)s")),
    (
        r"binding approved in review case #(?P<case>\d+)",
        pgettext_lazy(HISTORY, "binding approved in review case #%(case)s"),
    ),
    (
        r"binding rejected in review case #(?P<case>\d+)",
        pgettext_lazy(HISTORY, "binding rejected in review case #%(case)s"),
    ),
    (
        r"unbound after review case #(?P<case>\d+)",
        pgettext_lazy(HISTORY, "unbound after review case #%(case)s"),
    ),
    (r"rejected in review case #(?P<case>\d+)", pgettext_lazy(HISTORY, "rejected in review case #%(case)s")),
    (
        r"unfrozen after review case #(?P<case>\d+)",
        pgettext_lazy(HISTORY, "unfrozen after review case #%(case)s"),
    ),
    (
        r"phone changed after review case #(?P<case>\d+) \(path [ab]\)",
        pgettext_lazy(HISTORY, "phone changed after review case #%(case)s"),
    ),
    (
        r"unbound: review case #(?P<case>\d+) cleared by a face check",
        pgettext_lazy(HISTORY, "unbound: review case #%(case)s cleared by a face check"),
    ),
    (
        r"bound: review case #(?P<case>\d+) cleared by a face check",
        pgettext_lazy(HISTORY, "bound: review case #%(case)s cleared by a face check"),
    ),
    (r"approved by the rule (?P<rule>\w+)", pgettext_lazy(HISTORY, "approved by the system rule %(rule)s")),
    (r"assigned to (?P<name>.+)", pgettext_lazy(HISTORY, "assigned to %(name)s")),
    (r"review case #(?P<case>\d+) opened", pgettext_lazy(HISTORY, "review case #%(case)s opened")),
    (r"review case #(?P<case>\d+) approved", pgettext_lazy(HISTORY, "review case #%(case)s approved")),
    (r"review case #(?P<case>\d+) rejected", pgettext_lazy(HISTORY, "review case #%(case)s rejected")),
    (
        r"new number at the carrier: (?P<outcome>\w+); sent to review",
        pgettext_lazy(HISTORY, "the carrier's answer on the new number (%(outcome)s): sent to review"),
    ),
    (r"frozen: (?P<text>.*)", pgettext_lazy(HISTORY, "frozen: %(text)s")),
    (r"refused: (?P<code>\w+)", pgettext_lazy(HISTORY, "refused: %(code)s")),
    (r"staff created as (?P<role>\w+)", pgettext_lazy(HISTORY, "staff account created (%(role)s)")),
    (
        r"collected by debit attempt (?P<number>\d+)",
        pgettext_lazy(HISTORY, "collected by debit attempt %(number)s"),
    ),
    (
        r"debit attempt (?P<number>\d+) failed: (?P<failure>\w+)",
        pgettext_lazy(HISTORY, "debit attempt %(number)s failed: %(failure)s"),
    ),
    (
        r"ended by the bank \((?P<by>\w+), notice (?P<notice>[\w-]+)\)",
        pgettext_lazy(HISTORY, "ended at the bank (%(by)s, notice %(notice)s)"),
    ),
    (
        r"repayment card's mandate ended by the bank \((?P<by>\w+)\)",
        pgettext_lazy(HISTORY, "the repayment card's debit authorisation was ended at the bank (%(by)s)"),
    ),
]
_PATTERNS = [(re.compile(f"^{pattern}$", re.DOTALL), label) for pattern, label in PATTERNS]


def _value(name: str, value: str) -> str:
    """Codes inside a reason read as their labels too (a failure code, a staff role)."""
    if name == "failure":
        from lending.models import DebitAttempt

        return str(DebitAttempt.FAILURE_REASONS.get(value, value))
    if name == "role":
        from accounts.roles import role_label

        return role_label(value)
    return value


def reason_label(stored: str | None) -> str:
    if not stored:
        return ""
    if stored in REASONS:
        return str(REASONS[stored])
    for pattern, label in _PATTERNS:
        if match := pattern.match(stored):
            return str(label) % {name: _value(name, value) for name, value in match.groupdict().items()}
    return stored
