"""The notices endpoint (/bank/notices/, PROTOCOL.md section 7): refused notices change nothing,
a good one is stored once and acknowledged, and applying it revokes a mandate the bank ended or
settles a pending debit, never overwriting a debit already settled otherwise."""

import json
import time

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from accounts.models import Notification
from accounts.policies import current_policy
from audit.actions import Action
from audit.models import AuditEvent
from cards import bank_protocol
from cards.models import BankNotice, Card, Mandate
from cards.services import card_bind_confirm, card_bind_start
from cards.tasks import apply_waiting_bank_notices
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED
from conftest import FIRST_DUE, wait_until
from lending.models import DebitAttempt, Installment, OutboxMessage
from lending.services import loans_collect
from lending.services.collection import collection_resume, collection_start, debit_attempts_open
from tests.bank_server import key_pair

TARGET = "/bank/notices/"


@pytest.fixture
def bank_key(bank):
    """The sandbox bank's own private key: these tests write the bank's notices themselves."""
    return bank_protocol.load_private_key(str(bank.data_dir / "bank_private.pem"))


_ids = iter(range(1, 10**6))


def notice(kind: str, data: dict, notice_id: str = "") -> bytes:
    notice_id = notice_id or f"n_{next(_ids)}"
    return json.dumps(
        {"notice_id": notice_id, "type": kind, "created_at": "2026-12-15T00:00:03Z", "data": data}
    ).encode()


def ended(agreement_no: str, **extra) -> bytes:
    data = {"agreement_no": agreement_no, "ended_at": "2026-12-15T00:00:03Z", "ended_by": "cardholder"}
    return notice("agreement.ended", data, **extra)


def debit_result(attempt: DebitAttempt, status="succeeded", failure_code="", **extra) -> bytes:
    data = {
        "order_no": attempt.idempotency_key,
        "status": status,
        "amount_fen": int(attempt.amount * 100),
        "bank_ref": "d_1" if status == "succeeded" else "",
        "failure_code": failure_code,
        "retryable": failure_code == "insufficient_funds",
        "processed_at": "2026-12-15T00:00:03Z",
        "settle_date": "2026-12-15",
    }
    return notice("debit.result", data, **extra)


def post(client, key, body: bytes, *, headers=None, **sign):
    if headers is None:
        headers = bank_protocol.signed_headers(key, "POST", TARGET, body, **sign)
    return client.post(TARGET, data=body, content_type="application/json", headers=headers)


def acknowledged(response, body: bytes) -> bool:
    return response.status_code == 200 and response.content == bank_protocol.notice_ack(
        json.loads(body)["notice_id"]
    )


def counts() -> tuple[int, int, int, int]:
    return (
        BankNotice.objects.count(),
        OutboxMessage.objects.count(),
        AuditEvent.objects.count(),
        Mandate.objects.filter(status=Mandate.Status.ACTIVE).count(),
    )


@pytest.fixture
def card(bind, borrower):
    return bind(borrower)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case, status, code",
    [
        ("unsigned", 401, "signature_missing"),
        ("another key", 401, "signature_invalid"),
        ("stale", 401, "clock_skew"),
        ("oversized", 413, "too_large"),
        ("not json", 400, "malformed"),
        ("unknown kind", 400, "malformed"),
        ("amount not a number", 400, "malformed"),
        ("no agreement number", 400, "malformed"),
        ("a NUL in the notice id", 400, "malformed"),
    ],
)
def test_refused_notices_get_a_4xx_with_the_protocols_error_and_change_nothing(
    case, status, code, client, bank_key, card, tmp_path, caplog, deliver
):
    body, headers, sign = ended(card.active_mandate.token), None, {}
    if case == "unsigned":
        headers = {}
    elif case == "another key":
        other = bank_protocol.load_private_key(str(key_pair(tmp_path, "other")[0]))
        headers = bank_protocol.signed_headers(other, "POST", TARGET, body)
    elif case == "stale":
        sign = {"now": time.time() - 301}
    elif case == "oversized":
        body = notice("agreement.ended", {"agreement_no": "a_1", "x": "y" * bank_protocol.NOTICE_MAX_BYTES})
    elif case == "not json":
        body = b'{"notice_id": "n_1", "type":'
    elif case == "unknown kind":
        body = notice("debit.refund", {"order_no": "k-1"})
    elif case == "amount not a number":
        body = notice("debit.result", {"order_no": "k-1", "status": "succeeded", "amount_fen": "100"})
    elif case == "no agreement number":
        body = notice("card.closed", {"card_last4": "1234"})
    elif case == "a NUL in the notice id":
        body = ended(card.active_mandate.token, notice_id="n_\x00")
    before = counts()
    with deliver():
        response = post(client, bank_key, body, headers=headers, **sign)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert counts() == before
    assert f"bank notice refused: {code}" in caplog.text
    assert card.active_mandate.token not in caplog.text


@pytest.mark.django_db
def test_a_replayed_notice_is_refused(client, bank_key, card, deliver):
    body = ended("a_unknown")
    headers = bank_protocol.signed_headers(bank_key, "POST", TARGET, body)
    with deliver():
        assert acknowledged(post(client, bank_key, body, headers=headers), body)
    before = counts()
    response = post(client, bank_key, body, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "nonce_reused")
    assert counts() == before


@pytest.mark.django_db
def test_a_get_is_not_allowed(client):
    assert client.get(TARGET).status_code == 405


@pytest.mark.django_db
def test_without_the_banks_key_a_notice_is_answered_send_it_again(client, bank_key, card, settings):
    settings.BANK_PUBLIC_KEY = "/no/such/key.pem"
    response = post(client, bank_key, ended(card.active_mandate.token))
    assert (response.status_code, response.json()["error"]["code"]) == (503, "bank_error")
    assert not BankNotice.objects.exists()


@pytest.mark.django_db
def test_a_notice_not_stored_is_not_acknowledged(client, bank_key, card, monkeypatch):
    def broker_row_fails(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("cards.services.notices.outbox_enqueue", broker_row_fails)
    body = ended(card.active_mandate.token)
    response = post(Client(raise_request_exception=False), bank_key, body)
    assert response.status_code == 500 and not acknowledged(response, body)
    assert not BankNotice.objects.exists()


@pytest.mark.django_db
def test_the_bank_ending_an_agreement_revokes_the_mandate_tells_the_borrower_and_stops_collection(
    client, bank_key, card, borrower, make_loan, deliver, sms_outbox
):
    loan = make_loan(borrower)
    mandate = card.active_mandate
    body = ended(mandate.token)
    with deliver():
        response = post(client, bank_key, body)
    assert acknowledged(response, body)

    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.REVOKED and mandate.revoked_at_bank is not None
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE and card.needs_new_mandate  # bound, cannot repay
    notice = BankNotice.objects.get()
    assert (notice.status, notice.kind) == (BankNotice.Status.APPLIED, "agreement.ended")
    assert mandate.token not in json.dumps(notice.payload)  # the agreement number is kept encrypted
    [told] = Notification.objects.filter(user=borrower, kind="mandate_ended_at_bank")
    assert told.link == "/cards/"
    with translation.override(borrower.language):
        text = render_to_string("sms/mandate_ended_at_bank.txt", {"last4": card.last4}).strip()
    assert card.last4 in text and any(text in sms.body for sms in sms_outbox)
    [event] = AuditEvent.objects.filter(action=Action.MANDATE_ENDED_BY_BANK)
    assert event.data["card"] == card.masked_number and event.data["ended_by"] == "cardholder"

    # The next collection tries no debit, so none fails; the borrower was told already.
    assert loans_collect(loan_ids=[loan.pk], day=FIRST_DUE) == []
    assert not DebitAttempt.objects.exists()
    assert not loan.installments.filter(next_attempt_at__isnull=False).exists()

    # A usable repayment card again (renewal, another card): each installment from its due date.
    collection_resume(borrower=borrower)
    for installment in loan.installments.all():
        assert installment.next_attempt_at >= collection_start(installment.due_date)


@pytest.mark.django_db
def test_a_duplicate_notice_is_acknowledged_and_changes_nothing(client, bank_key, card, deliver, sms_outbox):
    body = ended(card.active_mandate.token)
    with deliver():
        assert acknowledged(post(client, bank_key, body), body)
    before, texts = counts(), len(sms_outbox)
    with deliver():  # the bank sends it again: same id and body, a new signature
        assert acknowledged(post(client, bank_key, body), body)
    assert counts() == before and len(sms_outbox) == texts
    assert Notification.objects.filter(kind="mandate_ended_at_bank").count() == 1


@pytest.mark.django_db
def test_a_closed_card_revokes_its_mandate(client, bank_key, card, borrower, deliver):
    data = {"agreement_no": card.active_mandate.token, "card_last4": card.last4, "closed_at": "x"}
    with deliver():
        post(client, bank_key, notice("card.closed", data))
    card.refresh_from_db()
    assert card.needs_new_mandate
    assert Notification.objects.filter(user=borrower, kind="card_closed_at_bank").exists()
    assert BankNotice.objects.get().status == BankNotice.Status.APPLIED


@pytest.mark.django_db
def test_an_unknown_agreement_number_is_kept_as_ignored(client, bank_key, card, deliver):
    with deliver():
        post(client, bank_key, ended("a_never_ours"))
    notice = BankNotice.objects.get()
    assert notice.status == BankNotice.Status.IGNORED and "no active mandate" in notice.note
    assert card.active_mandate is not None
    assert AuditEvent.objects.filter(action=Action.BANK_NOTICE_IGNORED).count() == 1


def _pending_attempt(borrower, make_loan) -> DebitAttempt:
    loan = make_loan(borrower)
    installment = loan.installments.order_by("number").first()
    debit_attempts_open(installment_ids=[installment.pk], day=FIRST_DUE)
    return DebitAttempt.objects.get(installment=installment)


@pytest.mark.django_db
def test_a_debit_result_settles_its_pending_attempt_once(
    client, bank_key, card, borrower, make_loan, deliver
):
    attempt = _pending_attempt(borrower, make_loan)
    with deliver():
        assert acknowledged(post(client, bank_key, body := debit_result(attempt)), body)
    attempt.refresh_from_db()
    assert attempt.status == DebitAttempt.Status.SUCCEEDED and attempt.gateway_reference == "d_1"
    assert attempt.installment.status == Installment.Status.PAID
    assert BankNotice.objects.get().status == BankNotice.Status.APPLIED

    with deliver():  # the same result under another notice id: nothing settles twice
        post(client, bank_key, debit_result(attempt))
    assert AuditEvent.objects.filter(action=Action.DEBIT_SUCCEEDED).count() == 1
    assert list(BankNotice.objects.values_list("status", flat=True)) == ["applied", "applied"]
    attempt.installment.refresh_from_db()
    assert attempt.installment.paid_amount == attempt.amount


@pytest.mark.django_db
def test_a_notice_contradicting_a_settled_attempt_is_a_conflict_and_changes_nothing(
    client, bank_key, card, borrower, make_loan, deliver
):
    loan = make_loan(borrower)
    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    attempt.refresh_from_db()
    assert attempt.status == DebitAttempt.Status.SUCCEEDED
    settled = DebitAttempt.objects.values().get(pk=attempt.pk)
    with deliver():
        post(client, bank_key, debit_result(attempt, status="failed", failure_code="insufficient_funds"))
    notice = BankNotice.objects.get()
    assert notice.status == BankNotice.Status.CONFLICT
    assert DebitAttempt.objects.values().get(pk=attempt.pk) == settled
    [event] = AuditEvent.objects.filter(action=Action.BANK_NOTICE_CONFLICT)
    assert (event.data["ours"], event.data["status"]) == ("succeeded", "failed")


@pytest.mark.django_db
def test_a_result_before_its_attempt_waits_and_is_applied_once_the_attempt_exists(
    client, bank_key, card, borrower, make_loan, deliver
):
    loan = make_loan(borrower)
    installment = loan.installments.order_by("number").first()
    future = DebitAttempt(
        idempotency_key=DebitAttempt.key_for(installment.pk, 1),
        amount=installment.principal_due + installment.interest_due,
    )
    with deliver():
        post(client, bank_key, debit_result(future))
    assert BankNotice.objects.get().status == BankNotice.Status.RECEIVED
    assert apply_waiting_bank_notices() == 0

    debit_attempts_open(installment_ids=[installment.pk], day=FIRST_DUE)
    assert apply_waiting_bank_notices() == 1
    assert BankNotice.objects.get().status == BankNotice.Status.APPLIED
    assert DebitAttempt.objects.get(installment=installment).status == DebitAttempt.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_bank_ending_an_agreement_reaches_the_platform(
    http_bank, live_server, settings, borrower, deliver, sign_in, make_loan
):
    """End to end: the sandbox bank server posts its signed notice to the running platform."""
    settings.BANK_GATEWAY = "cards.gateways.http.HttpBankGateway"
    with deliver():
        request = card_bind_start(
            actor=borrower, card_number=sandbox_cards.GOOD_DEBIT, reserved_phone=RESERVED
        )
    card = card_bind_confirm(
        actor=borrower,
        request=request,
        code=http_bank.code(request.gateway_reference),
        agreement=current_policy("debit_authorisation"),
    )
    mandate = card.active_mandate
    loan = make_loan(borrower)
    http_bank.notify(live_server.url + TARGET)
    http_bank.admin("POST", f"/sandbox/agreements/{mandate.token}/end")

    wait_until(lambda: Mandate.objects.get(pk=mandate.pk).status == Mandate.Status.REVOKED)
    wait_until(lambda: {n["status"] for n in http_bank.notices()} == {"acknowledged"})
    assert BankNotice.objects.get().status == BankNotice.Status.APPLIED
    assert Notification.objects.filter(user=borrower, kind="mandate_ended_at_bank").exists()
    page = sign_in(borrower).get("/cards/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Authorise debits again" in page  # the card page says what to do
    # and the next collection tries no debit, so none fails
    assert loans_collect(loan_ids=[loan.pk], day=FIRST_DUE) == []
    assert not DebitAttempt.objects.exists() and http_bank.debits() == []


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_notice_and_a_notice_before_the_answer_settle_a_debit_once(
    bank, live_server, bind, borrower, make_loan
):
    """End to end: the bank delivers its result to the running platform before it answers the
    batch, and delivers it twice; the installment is paid once."""
    bind(borrower)
    loan = make_loan(borrower)
    bank.notify(live_server.url + TARGET)
    bank.arm("duplicate_notice")
    bank.arm("notice_first")

    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)

    # one notice, delivered twice (its copies share its id), both acknowledged
    wait_until(lambda: [n["status"] for n in bank.notices()] == ["acknowledged", "acknowledged"])
    assert len({n["notice_id"] for n in bank.notices()}) == 1
    wait_until(lambda: BankNotice.objects.filter(status=BankNotice.Status.APPLIED).exists())
    attempt.refresh_from_db()
    assert attempt.status == DebitAttempt.Status.SUCCEEDED
    installment = attempt.installment
    installment.refresh_from_db()
    assert (installment.status, installment.paid_amount) == (Installment.Status.PAID, attempt.amount)
    assert BankNotice.objects.count() == 1  # the second delivery was the same notice
    assert AuditEvent.objects.filter(action=Action.DEBIT_SUCCEEDED).count() == 1
    assert [debit["order_no"] for debit in bank.debits()] == [attempt.idempotency_key]
