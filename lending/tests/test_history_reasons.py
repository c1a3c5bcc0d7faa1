"""Every reason the code stores on a history row reads as a label in the back office (the stored
English code stays as it is in exports): a reason added without one shows up here."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from lending.history_reasons import reason_label

APPS = ("accounts", "cards", "lending", "audit", "support", "privacy")
STORED = re.compile(r'(?:_change_reason = |\breason=)"([^"{}]+)"')


def stored_reasons() -> set[str]:
    found = set()
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            found.update(STORED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_reason_the_code_stores_has_a_chinese_label():
    reasons = stored_reasons()
    assert len(reasons) > 30  # the scan finds them
    with translation.override("zh-hans"):
        unlabelled = sorted(reason for reason in reasons if reason_label(reason) == reason)
    assert unlabelled == []


# Reasons built with values (f-strings in the code), each as the code writes it.
WITH_VALUES = [
    "kept after review case #12",
    "binding approved in review case #12",
    "binding rejected in review case #12",
    "unbound after review case #12",
    "rejected in review case #12",
    "unfrozen after review case #12",
    "phone changed after review case #12 (path a)",
    "phone changed after review case #12 (path b)",
    "unbound: review case #12 cleared by a face check",
    "bound: review case #12 cleared by a face check",
    "approved by the rule lost_phone_auto_approve",
    "assigned to li.na",
    "review case #12 opened",
    "review case #12 approved",
    "review case #12 rejected",
    "new number at the carrier: mismatch; sent to review",
    "frozen: risk alert #3: card_on_several_accounts",
    "refused: taken",
    "staff created as officer",
    "collected by debit attempt 2",
    "debit attempt 2 failed: insufficient_funds",
    "ended by the bank (cardholder, notice n_1)",
    "repayment card's mandate ended by the bank (cardholder)",
]


def test_every_reason_with_values_has_a_chinese_label():
    with translation.override("zh-hans"):
        assert [reason for reason in WITH_VALUES if reason_label(reason) == reason] == []
