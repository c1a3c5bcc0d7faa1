"""Officers type card, ID and phone numbers with separators into every free-text field; afterwards
no full number is in any table, log record, outbox message, text, page or audit export."""

import json
import logging
import re
import zipfile

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from accounts.models import Notification
from accounts.services import account_freeze, identity_verify
from accounts.tests.factories import BorrowerFactory, StaffFactory
from accounts.tests.test_no_leaks import ALLOWED, database_rows
from audit.actions import Action
from audit.exporting.sources import SOURCES
from audit.models import ReviewCase, ReviewDecision, RiskAlert
from audit.services import record, risk_scan
from cards.services import card_unbind
from cards.tests import sandbox_cards
from conftest import FIRST_DUE
from lending.models import DebitAttempt, OutboxMessage
from lending.pii import find_pii, find_pii_in
from lending.services import loans_collect

pytestmark = pytest.mark.django_db

ISSUE = "Called the borrower on 137 1111 0001; card 6217.0000.0000.0001.234, ID 110105 19870307 5316"
ISSUE_MASKED = "Called the borrower on 137****0001; card **** 1234, ID 110***********5316"
WARNING = "Personal numbers in your text were masked before it was saved"


def case_of(card) -> ReviewCase:
    return ReviewCase.objects.get(subject_id=str(card.pk), status=ReviewCase.Status.OPEN)


@pytest.fixture
def unbind_in_review(bind, action_code, settings):
    """Bind ``number`` for ``user`` and ask to unbind it: the unbind waits for an officer."""
    settings.RISK_UNBINDS_PER_USER_DAY = 0
    settings.REVIEW_HIGH_RISK_SCORE = 1000  # one officer decides

    def run(user, number, reserved="+8613800138000"):
        card = bind(user, number, reserved=reserved)
        with transaction.atomic():
            record(action=Action.CARD_UNBOUND, actor=user, subject=user)  # over the day's unbinds
        card = card_unbind(actor=user, card=card, code=action_code(user, "card_unbind", card.pk))
        assert card.status == "pending_review"
        return case_of(card)

    return run


def decide(client, case, verdict, reason):
    return client.post(
        reverse("admin:audit_reviewcase_decide", args=[case.pk]),
        {"verdict": verdict, "reason": reason},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()


def test_the_reject_reason_of_the_report_is_stored_masked_and_the_officer_is_told(
    unbind_in_review, admin_login, sign_in, deliver
):
    borrower = BorrowerFactory(phone="+8613711110001")
    identity_verify(actor=borrower, real_name="张三", id_number="110105198703075316")
    case = unbind_in_review(borrower, sandbox_cards.OTHER_GOOD_DEBIT, reserved=str(borrower.phone))
    client = admin_login(StaffFactory(role="officer"))

    with deliver():
        page = decide(client, case, "reject", ISSUE)

    assert f"{WARNING}: card number, ID number, mobile number." in page
    case.refresh_from_db()
    assert case.status == "rejected" and case.outcome_reason == ISSUE_MASKED
    assert ReviewDecision.objects.get(case=case).reason == ISSUE_MASKED
    assert set(case.history.values_list("outcome_reason", flat=True)) == {"", ISSUE_MASKED}
    notice = Notification.objects.get(user=borrower, kind="card_unbind_rejected")
    assert notice.params["reason"] == ISSUE_MASKED
    assert OutboxMessage.objects.exists()
    assert not find_pii_in(list(OutboxMessage.objects.values_list("kwargs", flat=True)))
    case_page = client.get(reverse("admin:audit_reviewcase_change", args=[case.pk])).content.decode()
    inbox = sign_in(borrower).get("/notifications/").content.decode()
    for shown in (case_page, inbox):
        assert "137****0001; card **** 1234, ID 110***********5316" in shown and not find_pii(shown)


def test_a_clean_reason_gives_no_warning(unbind_in_review, admin_login, borrower):
    case = unbind_in_review(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    page = decide(
        admin_login(StaffFactory(role="officer")), case, "reject", "loan 42 due 2026-12-15, ¥3,000.00"
    )
    assert "is rejected" in page and WARNING not in page
    assert ReviewCase.objects.get(pk=case.pk).outcome_reason == "loan 42 due 2026-12-15, ¥3,000.00"


def note_action(client, url, action, pk, note) -> str:
    selection = {"action": action, "_selected_action": [pk], "apply": "1", "note": note}
    return client.post(url, selection, follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def export_texts(auditor, tmp_path) -> dict[str, str]:
    """Every file of an audit export of every source, as CSV and as JSON Lines (``export_audit``)."""
    texts = {}
    for export_format in ("csv", "jsonl"):
        path = tmp_path / f"export.{export_format}.zip"
        sources = [arg for name in SOURCES for arg in ("--source", name)]
        call_command(
            "export_audit",
            "--as",
            auditor.username,
            "--output",
            str(path),
            *sources,
            "--format",
            export_format,
        )
        with zipfile.ZipFile(path) as archive:
            texts |= {f"{export_format}/{name}": archive.read(name).decode() for name in archive.namelist()}
    return texts


@pytest.mark.django_db(transaction=True)  # the export reads what is committed
def test_no_full_number_typed_by_officers_reaches_a_table_log_message_text_page_or_export(
    unbind_in_review, bind, borrower, make_loan, admin_login, sign_in, deliver, sms_outbox, caplog, tmp_path
):
    """The borrower's phone 13800138000 and ID 110105199003071239, their cards, in every separator form."""
    caplog.set_level(logging.DEBUG)
    needles = ["13800138000", "110105199003071239", *sandbox_cards.ALL]
    bind(borrower, sandbox_cards.HARD_FAIL)
    [failed] = loans_collect(loan_ids=[make_loan(borrower).pk], day=FIRST_DUE)
    rejected = unbind_in_review(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    approved = unbind_in_review(borrower, sandbox_cards.GOOD_DEBIT)
    with transaction.atomic():
        record(action=Action.IDENTITY_REFUSED, actor=borrower, subject=borrower)
    alert = risk_scan()[0]
    officer = StaffFactory(role="officer")
    client = admin_login(officer)
    pages = []

    with deliver():
        pages.append(decide(client, rejected, "reject", "Called 138 0013 8000; card 6217.0000.0000.0001.234"))
        pages.append(
            decide(client, approved, "approve", "ID 110105-1990-0307-1239 / card 6222_0200_0000_0061_234")
        )
        alerts = reverse("admin:audit_riskalert_changelist")
        pages.append(note_action(client, alerts, "acknowledge", alert.pk, "calling +86 138-0013-8000"))
        pages.append(note_action(client, alerts, "resolve", alert.pk, "ID 110105 19900307 1239 is theirs"))
        debits = "/admin/lending/debitattempt/"
        pages.append(
            note_action(
                client, debits, "retry", failed.pk, "card 6222 0200 0000 0801 19, tel 0086 13800138000"
            )
        )
        account_freeze(actor=None, user=borrower, reason="card 6222\u30000200\u30000000\u30000061\u3000234")
        unfreeze = ReviewCase.objects.get(kind="account_unfreeze")
        pages.append(decide(client, unfreeze, "reject", "asked for ID 110105.19900307.1239"))

    assert all(WARNING in page for page in pages)
    assert ReviewCase.objects.filter(status__in=["approved", "rejected"]).count() == 3
    assert RiskAlert.objects.get(pk=alert.pk).status == "resolved" and DebitAttempt.objects.count() == 2
    assert borrower.cards.filter(status="unbound").count() == 1
    for case in ReviewCase.objects.all():
        pages.append(client.get(reverse("admin:audit_reviewcase_change", args=[case.pk])).content.decode())
    pages.append(client.get(reverse("admin:audit_riskalert_change", args=[alert.pk])).content.decode())
    pages.append(sign_in(borrower).get("/notifications/").content.decode())
    exports = export_texts(StaffFactory(role="auditor"), tmp_path)
    assert any("110***********1239" in text for text in exports.values())  # the typed texts were exported

    def leaks(text: str) -> bool:
        digits = re.sub(r"[^0-9X]", "", text.upper())
        return bool(find_pii(text)) or any(needle in digits for needle in needles)

    assert not [page for page in pages if find_pii(page)]
    for log in caplog.records:
        assert not leaks(log.getMessage() + (log.exc_text or "")), log.getMessage()
    assert not [sms.body for sms in sms_outbox if leaks(sms.body)]
    assert not [
        kwargs for kwargs in OutboxMessage.objects.values_list("kwargs", flat=True) if find_pii_in(kwargs)
    ]
    assert not [name for name, text in exports.items() if leaks(text)]
    for table, row in database_rows():
        for column, value in row.items():
            if (table, column) not in ALLOWED and value is not None:
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                assert not leaks(text), (table, column)
