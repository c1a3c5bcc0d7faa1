"""Daily reconciliation against the sandbox bank running as its own server: every planted
difference found at its order number, a clean day's totals, refused files, agreements against
mandates, resolution, re-runs, the command and the back office."""

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.policies import current_policy
from accounts.tests.factories import StaffFactory
from audit.actions import Action
from audit.models import AuditEvent, RiskAlert
from cards.gateways.base import StatementRefused
from cards.gateways.http import HttpBankGateway
from cards.models import BankNotice, Mandate, ReconciliationBreak, ReconciliationRun
from cards.reconcile import BEIJING, settle_window
from cards.services import card_bind_confirm, card_bind_start
from cards.services.notices import bank_notice_debit_apply
from cards.services.reconciliation import reconciliation_break_resolve, reconciliation_run
from cards.tasks import reconcile_bank_statement
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED
from lending.errors import DomainError
from lending.models import DebitAttempt
from lending.pii import find_pii_in

Kind = ReconciliationBreak.Kind
pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(http_bank, settings):
    settings.BANK_GATEWAY = "cards.gateways.http.HttpBankGateway"
    settings.RECONCILIATION_BOUNDARY_SECONDS = 0  # the boundary has its own test
    return http_bank


def today():
    return timezone.localtime(timezone=BEIJING).date()


def bound_card(bank, user, number=sandbox_cards.GOOD_DEBIT):
    request = card_bind_start(actor=user, card_number=number, reserved_phone=RESERVED)
    return card_bind_confirm(
        actor=user,
        request=request,
        code=bank.code(request.gateway_reference),
        agreement=current_policy("debit_authorisation"),
    )


@pytest.fixture
def loan(bank, borrower, make_loan):
    """A 12-month loan repaid from a card bound at the sandbox bank over HTTP."""
    bound_card(bank, borrower)
    return make_loan(borrower, term_months=12)


def debit(installment, *, ours=None, amount=None) -> DebitAttempt:
    """Debit the installment at the bank, then keep the attempt as we would (``ours``: the status
    we record instead of the bank's answer)."""
    card = installment.loan.borrower.cards.get(is_repayment=True)
    mandate = card.active_mandate
    key = DebitAttempt.key_for(installment.pk, 1)
    amount = amount or installment.amount_due
    result = HttpBankGateway().debit(token=mandate.token, amount=amount, idempotency_key=key)
    status = ours or (DebitAttempt.Status.SUCCEEDED if result.succeeded else DebitAttempt.Status.FAILED)
    return DebitAttempt.objects.create(
        installment=installment,
        card=card,
        mandate=mandate,
        number=1,
        amount=amount,
        idempotency_key=key,
        status=status,
        gateway_reference=result.reference,
        failure_code=result.failure_code,
        settled_at=None if status == DebitAttempt.Status.PENDING else timezone.now(),
    )


def debits(loan, count=3) -> list[DebitAttempt]:
    return [debit(installment) for installment in loan.installments.all()[:count]]


def breaks(**filters) -> list[tuple[str, str]]:
    return sorted(ReconciliationBreak.objects.filter(**filters).values_list("kind", "order_no"))


def no_pii(item: ReconciliationBreak) -> bool:
    return find_pii_in(item.evidence) == [] and sandbox_cards.GOOD_DEBIT not in json.dumps(item.evidence)


# A clean day


def test_a_clean_day_records_its_totals_and_no_break(bank, loan):
    attempts = debits(loan)
    run = reconciliation_run(settle_date=today())
    assert run.status == ReconciliationRun.Status.CLEAN
    assert (run.lines, run.matched, run.breaks, run.agreements) == (3, 3, 0, 1)
    assert run.matched_amount == sum(a.amount for a in attempts)
    assert len(run.statement_sha256) == 64 and run.statement_signature and run.agreement_signature
    assert ReconciliationBreak.objects.count() == 0
    [event] = AuditEvent.objects.filter(action=Action.RECONCILIATION_RUN)
    assert event.data["matched"] == 3 and event.data["breaks"] == 0
    assert not RiskAlert.objects.exists()


def test_failed_debits_on_both_sides_match_and_count_no_money(bank, borrower, make_loan):
    bound_card(bank, borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    loan = make_loan(borrower)
    [attempt] = debits(loan, 1)
    assert attempt.status == DebitAttempt.Status.FAILED
    run = reconciliation_run(settle_date=today())
    assert (run.status, run.lines, run.matched, run.matched_amount) == ("clean", 1, 1, Decimal("0"))


# Each planted difference at its order number


@pytest.mark.parametrize(
    "planted, kind",
    [
        ("missing", Kind.OUR_SUCCESS_MISSING_AT_BANK),
        ("amount", Kind.AMOUNT_DIFFERS),
        ("unknown", Kind.UNKNOWN_ORDER),
    ],
)
def test_each_planted_difference_is_found_at_its_order_number(bank, loan, planted, kind):
    debits(loan)
    order_no = bank.arm("statement_difference", date=today().isoformat(), kind=planted)["order_no"]
    run = reconciliation_run(settle_date=today())
    assert run.status == ReconciliationRun.Status.BREAKS and run.breaks == 1
    assert breaks() == [(kind, order_no)]
    item = ReconciliationBreak.objects.get()
    assert item.run == run and item.status == ReconciliationBreak.Status.OPEN and no_pii(item)
    if kind != Kind.UNKNOWN_ORDER:
        assert item.attempt.idempotency_key == order_no
        assert item.evidence["ours"]["card"] == "**** 1234"
    if kind == Kind.AMOUNT_DIFFERS:
        assert item.bank_amount - item.our_amount == Decimal("1.00")
    assert run.matched == (2 if kind != Kind.UNKNOWN_ORDER else 3)
    [alert] = RiskAlert.objects.all()
    assert (alert.rule, alert.subject_id) == ("reconciliation_breaks", today().isoformat())


def test_a_failure_shown_as_a_success_is_a_status_difference(bank, borrower, make_loan):
    bound_card(bank, borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    [attempt] = debits(make_loan(borrower), 1)
    armed = bank.arm("statement_difference", date=today().isoformat(), kind="status")
    assert armed["order_no"] == attempt.idempotency_key
    reconciliation_run(settle_date=today())
    assert breaks() == [(Kind.STATUS_DIFFERS, attempt.idempotency_key)]
    item = ReconciliationBreak.objects.get()
    assert (item.evidence["bank"]["status"], item.evidence["ours"]["status"]) == ("succeeded", "failed")


def test_a_success_at_the_bank_we_still_have_pending_is_found(bank, loan):
    first, *_ = loan.installments.all()
    attempt = debit(first, ours=DebitAttempt.Status.PENDING)
    reconciliation_run(settle_date=today())
    assert breaks() == [(Kind.BANK_SUCCESS_UNKNOWN_TO_US, attempt.idempotency_key)]


def test_a_success_we_recorded_that_the_bank_failed_is_a_status_difference(bank, borrower, make_loan):
    bound_card(bank, borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    installment = make_loan(borrower).installments.first()
    attempt = debit(installment, ours=DebitAttempt.Status.SUCCEEDED)
    reconciliation_run(settle_date=today())
    assert breaks() == [(Kind.STATUS_DIFFERS, attempt.idempotency_key)]


def test_a_success_sent_just_before_midnight_that_the_bank_has_is_no_difference(bank, loan, settings):
    """Its bank processing may fall on the next date: asked about by order number, not a break."""
    settings.RECONCILIATION_BOUNDARY_SECONDS = 120
    late, early = debits(loan, 2)
    _start, end = settle_window(today())
    DebitAttempt.objects.filter(pk=late.pk).update(created_at=end - timedelta(seconds=60))
    DebitAttempt.objects.filter(pk=early.pk).update(created_at=end - timedelta(seconds=600))
    bank.arm("statement_difference", date=today().isoformat(), kind="missing", order_no=late.idempotency_key)
    bank.arm("statement_difference", date=today().isoformat(), kind="missing", order_no=early.idempotency_key)
    reconciliation_run(settle_date=today())
    assert breaks() == [(Kind.OUR_SUCCESS_MISSING_AT_BANK, early.idempotency_key)]


def test_successes_of_another_date_are_not_looked_for_in_this_file(bank, loan):
    [attempt] = debits(loan, 1)
    DebitAttempt.objects.filter(pk=attempt.pk).update(created_at=attempt.created_at - timedelta(days=1))
    run = reconciliation_run(settle_date=today())  # matched by order number whatever day we sent it
    assert (run.status, run.matched) == ("clean", 1)


# Refused files


def test_a_statement_with_a_bad_signature_is_refused_and_nothing_is_matched(bank, loan):
    debits(loan)
    bank.arm("bad_response", operation="statement", kind="signature", times=3)
    run = reconciliation_run(settle_date=today())
    assert (run.status, run.error, run.lines) == ("failed", "statement_answer_refused", 0)
    assert not ReconciliationBreak.objects.exists()
    assert AuditEvent.objects.filter(action=Action.RECONCILIATION_FAILED).count() == 1
    assert RiskAlert.objects.get().rule == "reconciliation_failed"


class Tamperer(BaseHTTPRequestHandler):
    """Between us and the bank: passes each answer on, changing what ``server.mode`` says."""

    def do_GET(self):
        server = self.server
        headers = {name: value for name, value in self.headers.items() if name.startswith("X-")}
        answer = httpx.get(server.bank + self.path, headers=headers, trust_env=False)
        body, out = answer.content, dict(answer.headers)
        if server.mode == "body":
            body = body.replace(b"succeeded", b"succeedeD", 1)
        elif server.mode == "digest":
            out["x-statement-sha256"] = "0" * 64
        elif server.mode == "statement signature":
            out["x-statement-signature"] = out["x-signature"]
        self.send_response(answer.status_code)
        for name, value in out.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(
    "mode, code",
    [
        ("body", "statement_answer_refused"),
        ("digest", "statement_digest_mismatch"),
        ("statement signature", "statement_signature_invalid"),
    ],
)
def test_a_tampered_statement_file_is_refused(bank, loan, settings, mode, code):
    debits(loan, 1)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Tamperer)
    proxy.bank, proxy.mode = bank.url, mode
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        settings.BANK_HTTP_URL = f"http://127.0.0.1:{proxy.server_address[1]}"
        with pytest.raises(StatementRefused) as refused:
            HttpBankGateway().statement(today())
        assert refused.value.code == code
        run = reconciliation_run(settle_date=today())
        assert (run.status, run.error) == ("failed", code)
        proxy.mode = "none"  # the same file passed on unchanged is accepted
        with HttpBankGateway().statement(today()) as statement:
            assert statement.lines == 1 and statement.path.exists()
        assert not statement.path.exists()  # removed at the end of the block
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_date_not_begun_at_the_bank_fails_the_run(bank):
    run = reconciliation_run(settle_date=today() + timedelta(days=2))
    assert (run.status, run.error) == ("failed", "statement_unknown")


# Agreements


def test_an_agreement_ended_at_the_bank_that_we_were_not_told_of_is_found(bank, loan):
    mandate = Mandate.objects.get(status=Mandate.Status.ACTIVE)
    bank.admin("POST", f"/sandbox/agreements/{mandate.token}/end")  # no notice URL: never delivered
    reconciliation_run(settle_date=today())
    item = ReconciliationBreak.objects.get()
    assert (item.kind, item.mandate) == (Kind.MANDATE_NOT_AT_BANK, mandate)
    assert item.evidence["agreement"] == f"{mandate.token[:4]}…{mandate.token[-4:]}" and no_pii(item)
    assert mandate.token not in json.dumps(item.evidence)


def test_a_mandate_the_bank_does_not_have_is_found(bank, loan):
    card = loan.borrower.cards.get()
    Mandate.objects.filter(card=card).update(status=Mandate.Status.REVOKED, revoked_at=timezone.now())
    orphan = Mandate.objects.create(
        card=card, agreement_version="v1", **Mandate.token_fields("a_" + "f" * 40)
    )
    Mandate.objects.filter(pk=orphan.pk).update(created_at=orphan.created_at - timedelta(days=1))
    reconciliation_run(settle_date=today())
    assert sorted(ReconciliationBreak.objects.values_list("kind", "mandate")) == sorted(
        [
            (Kind.MANDATE_NOT_AT_BANK, orphan.pk),
            (Kind.AGREEMENT_ONLY_AT_BANK, card.mandates.earliest("pk").pk),
        ]
    )


def test_an_agreement_active_at_the_bank_with_no_mandate_here_is_found(bank, loan):
    gateway = HttpBankGateway()
    reference = gateway.bind_start(
        holder_name="张三",
        id_number="110105199003071239",
        card_number=sandbox_cards.OTHER_GOOD_DEBIT,
        reserved_phone=RESERVED,
    )
    token = gateway.bind_confirm(reference=reference, code=bank.code(reference))  # our side never stored it
    run = reconciliation_run(settle_date=today())
    item = ReconciliationBreak.objects.get()
    assert (item.kind, item.mandate, run.agreements) == (Kind.AGREEMENT_ONLY_AT_BANK, None, 2)
    assert item.key == Mandate.fingerprint_of(token) and item.evidence["card"] == "**** 5678"


# Resolution, re-runs, notices


def test_resolving_a_break_is_audited_with_the_note_masked(bank, loan):
    debits(loan)
    bank.arm("statement_difference", date=today().isoformat(), kind="unknown")
    reconciliation_run(settle_date=today())
    item = ReconciliationBreak.objects.get()
    officer, support = StaffFactory(role="officer"), StaffFactory(role="support")
    with pytest.raises(DomainError):
        reconciliation_break_resolve(actor=support, reconciliation_break=item, note="looked")
    with pytest.raises(DomainError):
        reconciliation_break_resolve(actor=officer, reconciliation_break=item, note="  ")
    item = reconciliation_break_resolve(
        actor=officer, reconciliation_break=item, note="bank says test order; called 13800138000"
    )
    assert (item.status, item.resolved_by) == (ReconciliationBreak.Status.RESOLVED, officer)
    assert "13800138000" not in item.resolution_note and "138" in item.resolution_note
    [event] = AuditEvent.objects.filter(action=Action.RECONCILIATION_BREAK_RESOLVED)
    assert event.actor_id == officer.pk and event.data["kind"] == Kind.UNKNOWN_ORDER
    assert item.history.first().history_change_reason == "resolved by an officer"
    with pytest.raises(DomainError):
        reconciliation_break_resolve(actor=officer, reconciliation_break=item, note="again")


def test_running_a_date_again_adds_no_break_and_no_alert(bank, loan):
    debits(loan)
    bank.arm("statement_difference", date=today().isoformat(), kind="missing")
    bank.arm("statement_difference", date=today().isoformat(), kind="unknown")
    first = reconciliation_run(settle_date=today())
    again = reconciliation_run(settle_date=today())
    assert first.pk == again.pk and again.breaks == 2
    assert ReconciliationBreak.objects.count() == 2 and RiskAlert.objects.count() == 1
    assert ReconciliationRun.objects.count() == 1
    assert AuditEvent.objects.filter(action=Action.RECONCILIATION_RUN).count() == 2


def test_a_run_still_going_is_not_started_twice(bank):
    ReconciliationRun.objects.create(settle_date=today())
    with pytest.raises(DomainError):
        reconciliation_run(settle_date=today())


def test_a_notice_contradicting_a_settled_attempt_opens_a_break(bank, loan):
    [attempt] = debits(loan, 1)
    notice = BankNotice.objects.create(
        notice_id="n_conflict",
        kind=BankNotice.Kind.DEBIT_RESULT,
        payload={
            "order_no": attempt.idempotency_key,
            "status": "failed",
            "amount_fen": int(attempt.amount * 100),
            "bank_ref": "",
            "failure_code": "insufficient_funds",
            "retryable": True,
            "processed_at": "2026-12-15T00:00:03Z",
            "settle_date": "2026-12-15",
        },
    )
    assert bank_notice_debit_apply(notice_id=notice.pk) == BankNotice.Status.CONFLICT
    item = ReconciliationBreak.objects.get()
    assert (item.kind, item.order_no, item.attempt, str(item.settle_date)) == (
        Kind.NOTICE_CONFLICT,
        attempt.idempotency_key,
        attempt,
        "2026-12-15",
    )
    assert item.evidence["notice"] == "n_conflict" and item.evidence["bank"]["status"] == "failed"
    [event] = AuditEvent.objects.filter(action=Action.BANK_NOTICE_CONFLICT)
    assert event.data["break"] == item.pk
    assert RiskAlert.objects.get().subject_id == "2026-12-15"


# Beat, command, back office


def test_the_beat_task_reconciles_the_previous_date(bank, settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["bank-reconciliation"]["task"] == "cards.tasks.reconcile_bank_statement"
    )
    assert reconcile_bank_statement() == "clean"
    assert ReconciliationRun.objects.get().settle_date == today() - timedelta(days=1)


def test_the_command_runs_with_a_summary(bank, loan):
    debits(loan)
    bank.arm("statement_difference", date=today().isoformat(), kind="amount")
    out, err = StringIO(), StringIO()
    call_command("reconcile_bank", "--date", today().isoformat(), stdout=out, stderr=err)
    assert "3 statement lines, 2 matched" in out.getvalue() and "1 differences" in out.getvalue()
    assert "The amounts differ: 1 open" in out.getvalue()
    assert "3/3" in err.getvalue()  # the progress bar
    with pytest.raises(CommandError):
        call_command("reconcile_bank", "--date", "someday")


def test_the_command_fails_loudly_when_the_file_is_refused(bank):
    bank.arm("bad_response", operation="statement", kind="signature", times=3)
    with pytest.raises(CommandError, match="statement_answer_refused"):
        call_command("reconcile_bank", "--date", today().isoformat(), stdout=StringIO(), stderr=StringIO())


def test_officers_see_the_runs_and_breaks_and_resolve_one_in_the_back_office(bank, loan, admin_login):
    debits(loan)
    bank.arm("statement_difference", date=today().isoformat(), kind="amount")
    run = reconciliation_run(settle_date=today())
    item = ReconciliationBreak.objects.get()
    client = admin_login(StaffFactory(role="officer"))
    assert client.get("/admin/cards/reconciliationrun/").status_code == 200
    page = client.get(f"/admin/cards/reconciliationrun/{run.pk}/change/")
    assert page.status_code == 200 and run.statement_sha256 in page.content.decode()
    listing = client.get(
        f"/admin/cards/reconciliationbreak/?kind__exact=amount_differs&status__exact=open&settle_date__exact={today()}"
    )
    assert item.order_no in listing.content.decode()
    detail = client.get(f"/admin/cards/reconciliationbreak/{item.pk}/change/").content.decode()
    assert "amount_fen" in detail and item.order_no in detail
    form = {"action": "resolve", "_selected_action": [item.pk], "index": 0}
    assert 'value="resolve"' in client.get("/admin/cards/reconciliationbreak/").content.decode()
    assert "note" in client.post("/admin/cards/reconciliationbreak/", form).content.decode()
    client.post("/admin/cards/reconciliationbreak/", {**form, "apply": "1", "note": "bank's fee, agreed"})
    item.refresh_from_db()
    assert item.status == ReconciliationBreak.Status.RESOLVED and item.resolution_note == "bank's fee, agreed"


def test_auditors_see_breaks_but_may_not_resolve_them(bank, loan, admin_login):
    debits(loan, 1)
    bank.arm("statement_difference", date=today().isoformat(), kind="unknown")
    reconciliation_run(settle_date=today())
    item = ReconciliationBreak.objects.get()
    client = admin_login(StaffFactory(role="auditor"))
    page = client.get("/admin/cards/reconciliationbreak/")
    assert page.status_code == 200 and 'value="resolve"' not in page.content.decode()
    form = {"action": "resolve", "_selected_action": [item.pk], "apply": "1", "note": "x"}
    client.post("/admin/cards/reconciliationbreak/", form)
    item.refresh_from_db()
    assert item.status == ReconciliationBreak.Status.OPEN


def test_a_run_that_breaks_down_is_marked_failed_and_may_run_again(bank, loan, monkeypatch):
    debits(loan, 1)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("cards.reconcile.successes_missing", broken)
    with pytest.raises(RuntimeError):
        reconciliation_run(settle_date=today())
    assert ReconciliationRun.objects.get().error == "internal_error"
    monkeypatch.undo()
    assert reconciliation_run(settle_date=today()).status == ReconciliationRun.Status.CLEAN
