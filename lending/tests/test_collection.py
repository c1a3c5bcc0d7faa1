"""Auto-debit: each outcome's path, retries on a schedule, timeouts settled by querying, never twice."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Notification, SmsMessage
from accounts.services import password_change
from audit.models import AuditEvent
from cards.models import Mandate
from cards.services import card_swap
from cards.tests import sandbox_cards
from lending.models import DebitAttempt, Installment, Loan
from lending.services import (
    bank_outcomes,
    debit_attempts_open,
    debit_attempts_settle,
    installments_collect,
    installments_overdue_mark,
    loans_collect,
    loans_to_collect,
)
from lending.services.collection import collection_start
from lending.tests.conftest import FIRST_DUE

pytestmark = pytest.mark.django_db


def first(loan) -> Installment:
    return loan.installments.get(number=1)


def test_a_new_schedule_is_collectable_from_each_due_date(bind, borrower, make_loan):
    bind(borrower)
    loan = make_loan(borrower)
    assert [i.next_attempt_at for i in loan.installments.all()] == [
        collection_start(i.due_date) for i in loan.installments.all()
    ]
    assert timezone.localtime(first(loan).next_attempt_at).hour == 0
    assert list(loans_to_collect(FIRST_DUE - timedelta(days=1))) == []
    assert list(loans_to_collect(FIRST_DUE)) == [loan.pk]


def test_collecting_on_the_due_date_debits_the_repayment_card_once(bind, borrower, make_loan, bank):
    card = bind(borrower)
    loan = make_loan(borrower)
    installment = first(loan)

    assert loans_collect(loan_ids=[loan.pk], day=FIRST_DUE - timedelta(days=1)) == []
    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)

    installment.refresh_from_db()
    assert attempt.status == DebitAttempt.Status.SUCCEEDED
    assert (attempt.card, attempt.mandate, attempt.number) == (card, card.active_mandate, 1)
    assert attempt.idempotency_key == f"installment-{installment.pk}-attempt-1"
    assert attempt.amount == installment.amount_due and attempt.gateway_reference
    assert installment.status == Installment.Status.PAID and installment.paid_amount == attempt.amount
    assert installment.next_attempt_at is None
    [debit] = bank.debits()  # the bank's own ledger
    assert (debit["amount_fen"], debit["order_no"]) == (int(attempt.amount * 100), attempt.idempotency_key)
    balance = bank.agreement(card.active_mandate.token)["balance_fen"]
    assert Decimal(balance) / 100 == Decimal("1000000.00") - attempt.amount
    event = AuditEvent.objects.get(action="debit.succeeded")
    assert event.data["card"] == "**** 1234" and event.actor_kind == AuditEvent.ActorKind.SYSTEM
    started = AuditEvent.objects.get(action="debit.started")  # written before the bank was asked
    assert started.subject_id == str(attempt.pk) and started.pk < event.pk
    amount = str(attempt.amount)
    assert started.data == {
        "loan": loan.pk,
        "installment": 1,
        "attempt": 1,
        "amount": amount,
        "card": "**** 1234",
    }
    assert installment.history.first().history_change_reason == "collected by debit attempt 1"
    # Installment 2 is not due yet: the same run does not touch it.
    assert loan.installments.get(number=2).status == Installment.Status.DUE


def test_running_the_collection_again_collects_nothing_more(bind, borrower, make_loan, bank):
    bind(borrower)
    loan = make_loan(borrower)
    loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert loans_collect(loan_ids=[loan.pk], day=FIRST_DUE) == []
    assert installments_collect(installment_ids=[first(loan).pk], day=FIRST_DUE) == []
    assert DebitAttempt.objects.count() == len(bank.debits()) == 1


def test_the_last_installment_pays_the_loan_off(bind, borrower, make_loan):
    bind(borrower)
    loan = make_loan(borrower, term_months=2)
    last_due = loan.installments.get(number=2).due_date
    attempts = loans_collect(loan_ids=[loan.pk], day=last_due)  # a late run collects both, in order
    assert [a.installment.number for a in attempts] == [1, 2]
    loan.refresh_from_db()
    assert loan.status == Loan.Status.PAID_OFF


def test_insufficient_funds_retries_three_times_on_the_schedule_then_stops(
    bind, borrower, make_loan, sms_outbox, settings, bank
):
    settings.AUTODEBIT_RETRY_DAYS = (1, 2, 3)
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    loan = make_loan(borrower)
    installment = first(loan)

    day = FIRST_DUE
    for retry_in in (1, 2, 3):
        [attempt] = loans_collect(loan_ids=[loan.pk], day=day)
        assert (attempt.status, attempt.failure_code) == ("failed", "insufficient_funds")
        installment.refresh_from_db()
        day = day + timedelta(days=retry_in)
        assert installment.next_attempt_at == collection_start(day)
        assert loans_collect(loan_ids=[loan.pk], day=day - timedelta(days=1)) == []  # not before its time
    [last] = loans_collect(loan_ids=[loan.pk], day=day)

    installment.refresh_from_db()
    loan.refresh_from_db()
    assert last.number == 4 and last.status == "failed"
    assert installment.next_attempt_at is None and installment.status == Installment.Status.OVERDUE
    assert loan.status == Loan.Status.OVERDUE
    assert list(loans_to_collect(day + timedelta(days=10))) == []
    keys = set(DebitAttempt.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == 4 and len(bank.debits(status="succeeded")) == 0
    kinds = list(Notification.objects.filter(user=borrower).values_list("kind", flat=True).order_by("pk"))
    assert kinds[-4:] == ["debit_failed_retry"] * 3 + ["debit_failed_stopped"]
    texts = [m.template for m in SmsMessage.objects.order_by("pk")]
    assert texts[-4:] == ["debit_failed_retry"] * 3 + ["debit_failed_stopped"]


def test_a_revoked_mandate_stops_at_once_and_tells_the_borrower_to_choose_a_card(
    bind, borrower, make_loan, bank
):
    bind(borrower, sandbox_cards.HARD_FAIL)
    loan = make_loan(borrower)
    with bank.travel(at(FIRST_DUE, 8)):
        [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    installment = first(loan)
    assert (attempt.status, attempt.failure_code) == ("failed", "mandate_revoked")
    # Stopped, but not overdue while its due day's collection window is open.
    assert installment.next_attempt_at is None and installment.status == Installment.Status.DUE
    notice = Notification.objects.get(kind="debit_failed_stopped")
    assert notice.link == f"/loans/{loan.pk}/"  # which leads with "repay now"
    mandate = Mandate.objects.get()  # ours says what the bank said
    assert mandate.status == Mandate.Status.REVOKED and mandate.revoked_at_bank
    assert mandate.history.first().history_change_reason == "revoked by the bank (a debit was refused)"
    assert AuditEvent.objects.get(action="debit.failed").data["failure_code"] == "mandate_revoked"


def test_a_card_closed_at_the_bank_is_a_hard_failure(bind, borrower, make_loan, bank):
    card = bind(borrower)
    loan = make_loan(borrower)
    bank.admin("POST", f"/sandbox/agreements/{card.active_mandate.token}/close-card")  # its notice waits
    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert attempt.failure_code == "card_closed"
    assert first(loan).next_attempt_at is None


def test_without_a_usable_mandate_nothing_is_sent_to_the_bank(bind, borrower, make_loan, bank):
    bind(borrower)
    loan = make_loan(borrower)
    Mandate.objects.update(status=Mandate.Status.REVOKED)
    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert (attempt.status, attempt.failure_code, attempt.card) == ("failed", "no_repayment_card", None)
    assert len(bank.debits()) == 0
    assert first(loan).next_attempt_at is None


def test_choosing_a_new_repayment_card_resumes_a_stopped_collection(
    bind, borrower, make_loan, action_code, bank
):
    from cards.services import card_repayment_set

    bind(borrower, sandbox_cards.HARD_FAIL)
    loan = make_loan(borrower)
    with bank.travel(at(FIRST_DUE, 8)):  # stopped on its due day: still due
        loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert (first(loan).status, first(loan).next_attempt_at) == (Installment.Status.DUE, None)
    with bank.travel(at(FIRST_DUE, 12)):
        good = bind(borrower, sandbox_cards.GOOD_DEBIT)
        card_repayment_set(actor=borrower, card=good, code=action_code(borrower, "card_repayment", good.pk))
        assert first(loan).next_attempt_at == at(FIRST_DUE, 12)
        [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)

    assert (attempt.status, attempt.card, attempt.number) == ("succeeded", good, 2)
    assert first(loan).status == Installment.Status.PAID
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE
    assert not AuditEvent.objects.filter(action="installment.overdue").exists()


def test_a_new_repayment_card_resumes_an_installment_stopped_then_marked_overdue(
    bind, borrower, make_loan, action_code, bank
):
    from cards.services import card_repayment_set

    bind(borrower, sandbox_cards.HARD_FAIL)
    loan = make_loan(borrower)
    with bank.travel(at(FIRST_DUE, 8)):
        loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    with bank.travel(at(FIRST_DUE, 18)):
        assert installments_overdue_mark(day=FIRST_DUE) == 1
    next_day = FIRST_DUE + timedelta(days=1)
    with bank.travel(at(next_day, 9)):
        good = bind(borrower, sandbox_cards.GOOD_DEBIT)
        card_repayment_set(actor=borrower, card=good, code=action_code(borrower, "card_repayment", good.pk))
        [attempt] = loans_collect(loan_ids=[loan.pk], day=next_day)
    assert (attempt.status, attempt.card) == ("succeeded", good)
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE  # the overdue installment is paid


def at(day, hour, minute=0):
    """A time of ``day`` in TIME_ZONE (Asia/Shanghai), for time_machine."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def failure_told(borrower) -> bool:
    texts = [m.template for m in SmsMessage.objects.all()]
    notices = Notification.objects.filter(user=borrower, kind__startswith="debit_failed")
    return notices.exists() or any(t.startswith("debit_failed") for t in texts)


def test_a_debit_lost_before_the_bank_got_it_is_sent_again_under_the_same_key_in_the_same_run(
    bind, borrower, make_loan, bank
):
    bind(borrower)
    loan = make_loan(borrower)
    bank.arm(
        "timeout", operation="debit_batch"
    )  # the request never reached the bank; the query says "unknown key"
    with bank.travel(at(FIRST_DUE, 8)):
        [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)

    assert (attempt.status, attempt.number, attempt.resent_count) == ("succeeded", 1, 1)
    assert attempt.idempotency_key == f"installment-{first(loan).pk}-attempt-1"
    assert attempt.resent_at == at(FIRST_DUE, 8)
    assert [debit["order_no"] for debit in bank.debits()] == [attempt.idempotency_key]
    assert first(loan).status == Installment.Status.PAID
    events = AuditEvent.objects.filter(action__startswith="debit.").order_by("pk")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["debit.started", "debit.resent", "debit.succeeded"]
    resent = AuditEvent.objects.get(action="debit.resent")
    assert resent.subject_id == str(attempt.pk)
    assert resent.data == {
        "loan": loan.pk,
        "installment": 1,
        "attempt": 1,
        "amount": str(attempt.amount),
        "card": "**** 1234",
        "sent_again": 1,
    }
    assert not failure_told(borrower)


def test_attempts_a_dead_worker_opened_but_never_sent_are_sent_by_the_next_run_the_same_morning(
    bind, borrower, make_loan, bank
):
    bind(borrower)
    loan = make_loan(borrower, term_months=2)
    second = loan.installments.get(number=2)
    with bank.travel(at(second.due_date, 8)):  # a late run: both installments are due
        [opened] = debit_attempts_open(installment_ids=[first(loan).pk], day=second.due_date)
    # the worker died before asking the bank: the attempt stays pending, nobody is told
    with bank.travel(at(second.due_date, 8, 10)):
        assert loans_collect(loan_ids=[loan.pk], day=second.due_date) == []  # still in flight
    assert first(loan).status == Installment.Status.DUE

    with bank.travel(at(second.due_date, 8, 20)):
        attempts = loans_collect(loan_ids=[loan.pk], day=second.due_date)

    assert [(a.installment.number, a.number, a.status) for a in attempts] == [
        (1, 1, "succeeded"),
        (2, 1, "succeeded"),
    ]
    assert attempts[0].idempotency_key == opened.key and attempts[0].resent_count == 1
    assert attempts[1].resent_count == 0
    assert sorted(debit["order_no"] for debit in bank.debits()) == sorted(a.idempotency_key for a in attempts)
    loan.refresh_from_db()
    assert loan.status == Loan.Status.PAID_OFF
    assert AuditEvent.objects.filter(action="debit.resent").count() == 1
    assert AuditEvent.objects.filter(action="debit.failed").count() == 0
    assert not failure_told(borrower)


def test_a_resend_the_bank_does_not_answer_waits_and_is_sent_again_once_it_is_stale(
    bind, borrower, make_loan, bank
):
    bind(borrower)
    loan = make_loan(borrower)
    with bank.travel(at(FIRST_DUE, 8)):
        [opened] = debit_attempts_open(installment_ids=[first(loan).pk], day=FIRST_DUE)
    bank.arm("timeout", operation="debit_batch")  # the resend is lost too
    with bank.travel(at(FIRST_DUE, 8, 20)):
        [waiting] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert (waiting.status, waiting.resent_count, waiting.resent_at) == ("pending", 1, at(FIRST_DUE, 8, 20))
    assert first(loan).status == Installment.Status.DUE

    with bank.travel(at(FIRST_DUE, 8, 30)):  # in flight again since the resend
        assert loans_collect(loan_ids=[loan.pk], day=FIRST_DUE) == []
    with bank.travel(at(FIRST_DUE, 8, 36)):
        [settled] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert (settled.idempotency_key, settled.status, settled.resent_count) == (opened.key, "succeeded", 2)
    assert len(bank.debits()) == 1
    assert AuditEvent.objects.filter(action="debit.resent").count() == 2


def test_after_the_window_closes_a_debit_the_bank_never_received_fails_as_no_answer(
    bind, borrower, make_loan, settings, bank
):
    settings.AUTODEBIT_WINDOW_CLOSES_AT = (18, 0)
    bind(borrower)
    loan = make_loan(borrower)
    with bank.travel(at(FIRST_DUE, 17, 50)):
        [opened] = debit_attempts_open(installment_ids=[first(loan).pk], day=FIRST_DUE)
    with bank.travel(at(FIRST_DUE, 18, 10)):  # stale, but the window has closed
        [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)

    assert (attempt.idempotency_key, attempt.status, attempt.failure_code) == (
        opened.key,
        "failed",
        "no_answer",
    )
    assert attempt.resent_count == 0 and len(bank.debits()) == 0
    installment = first(loan)
    assert installment.status == Installment.Status.OVERDUE
    assert installment.next_attempt_at == collection_start(FIRST_DUE + timedelta(days=1))
    loan.refresh_from_db()
    assert loan.status == Loan.Status.OVERDUE
    assert (
        Notification.objects.get(user=borrower, kind__startswith="debit_failed").kind == "debit_failed_retry"
    )
    assert not AuditEvent.objects.filter(action="debit.resent").exists()

    with bank.travel(at(FIRST_DUE + timedelta(days=1), 8)):
        [retry] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE + timedelta(days=1))
    assert retry.status == "succeeded" and retry.idempotency_key != attempt.idempotency_key
    assert len(bank.debits(status="succeeded")) == 1


def test_the_follow_up_run_collects_what_the_morning_run_missed_in_its_hours_only(
    bind, borrower, make_loan, settings, bank
):
    from lending.tasks import collect_stragglers

    settings.AUTODEBIT_AT, settings.AUTODEBIT_FOLLOW_UP_MINUTES = (8, 0), 10
    bind(borrower)
    loan = make_loan(borrower)
    for hour, minute in [(8, 0), (8, 9), (18, 0), (23, 0)]:
        with bank.travel(at(FIRST_DUE, hour, minute)):
            assert collect_stragglers() == 0
    assert not DebitAttempt.objects.exists()

    with bank.travel(at(FIRST_DUE, 8, 10)):
        assert collect_stragglers() == 1  # one collect_loans task, run eagerly here
    attempt = DebitAttempt.objects.get()
    assert (attempt.status, attempt.trigger) == ("succeeded", DebitAttempt.Trigger.FOLLOW_UP)
    assert attempt.installment.loan_id == loan.pk


def test_the_follow_up_run_leaves_a_collection_resumed_during_the_day_to_the_next_run(
    bind, borrower, make_loan, bank
):
    bind(borrower)
    loan = make_loan(borrower)
    Installment.objects.filter(pk=first(loan).pk).update(next_attempt_at=at(FIRST_DUE, 11))
    with bank.travel(at(FIRST_DUE, 11, 10)):
        assert list(loans_to_collect(FIRST_DUE, DebitAttempt.Trigger.FOLLOW_UP)) == []
        assert loans_collect(loan_ids=[loan.pk], day=FIRST_DUE, trigger=DebitAttempt.Trigger.FOLLOW_UP) == []
        assert list(loans_to_collect(FIRST_DUE)) == [loan.pk]


def test_a_timeout_after_the_bank_debited_is_settled_by_querying_not_by_debiting_again(
    bind, borrower, make_loan, bank
):
    bind(borrower)
    loan = make_loan(borrower)
    bank.arm("timeout", operation="debit_batch", when="after")
    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert attempt.status == "succeeded" and attempt.number == 1
    assert len(bank.debits()) == 1
    assert first(loan).status == Installment.Status.PAID


def test_when_the_bank_does_not_answer_at_all_the_attempt_waits_and_is_settled_later(
    bind, borrower, make_loan, bank
):
    bind(borrower)
    loan = make_loan(borrower)
    bank.arm("timeout", operation="debit_batch", when="after")
    bank.arm("timeout", operation="query", times=3)  # the adapter tries a query three times
    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert attempt.status == DebitAttempt.Status.PENDING
    assert first(loan).status == Installment.Status.DUE

    # Another run while it is in flight: no second attempt, no second debit.
    assert loans_collect(loan_ids=[loan.pk], day=FIRST_DUE) == []
    with bank.travel(timezone.now() + timedelta(minutes=16), tick=True):
        assert list(loans_to_collect(FIRST_DUE)) == [loan.pk]
        [settled] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert settled.pk == attempt.pk and settled.status == "succeeded"
    assert DebitAttempt.objects.count() == len(bank.debits()) == 1


def test_a_worker_killed_between_debit_and_settle_never_debits_twice(bind, borrower, make_loan, bank):
    bind(borrower)
    loan = make_loan(borrower)
    [opened] = debit_attempts_open(installment_ids=[first(loan).pk], day=FIRST_DUE)
    bank_outcomes([opened])  # the bank debits; the worker dies before settling
    started = AuditEvent.objects.get(action="debit.started")  # the trail shows the debit in flight
    assert started.data["attempt"] == 1 and started.data["card"] == "**** 1234"

    with bank.travel(timezone.now() + timedelta(minutes=16), tick=True):
        [settled] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert settled.idempotency_key == opened.key and settled.status == "succeeded"
    assert len(bank.debits()) == 1 and first(loan).status == Installment.Status.PAID


def test_settling_an_attempt_twice_changes_nothing_the_second_time(bind, borrower, make_loan):
    bind(borrower)
    loan = make_loan(borrower)
    [opened] = debit_attempts_open(installment_ids=[first(loan).pk], day=FIRST_DUE)
    outcomes = bank_outcomes([opened])
    assert debit_attempts_settle(outcomes=outcomes, day=FIRST_DUE) == [opened.key]
    assert debit_attempts_settle(outcomes=outcomes, day=FIRST_DUE) == []
    assert first(loan).paid_amount == opened.amount
    assert AuditEvent.objects.filter(action="debit.succeeded").count() == 1


def test_a_swap_during_collection_finishes_on_the_old_mandate_and_moves_later_debits(
    bind, borrower, make_loan, action_code, bank
):
    old = bind(borrower)
    new = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    loan = make_loan(borrower)
    [opened] = debit_attempts_open(installment_ids=[first(loan).pk], day=FIRST_DUE)  # in flight

    card_swap(actor=borrower, old=old, new=new, code=action_code(borrower, "card_swap", f"{old.pk}:{new.pk}"))
    [key] = debit_attempts_settle(outcomes=bank_outcomes([opened]), day=FIRST_DUE)
    settled = DebitAttempt.objects.get(idempotency_key=key)
    assert settled.status == "succeeded" and settled.card == old

    second_due = loan.installments.get(number=2).due_date
    [next_attempt] = loans_collect(loan_ids=[loan.pk], day=second_due)
    assert next_attempt.card == new and next_attempt.status == "succeeded"
    debited = [debit["agreement_no"] for debit in bank.debits()]
    assert debited == [old.mandates.get().token, new.mandates.get().token]


def test_a_password_change_changes_nothing_for_debits(bind, borrower, make_loan):
    """Seed 002: debits run on the bank's mandate token, never on the borrower's secrets."""
    card = bind(borrower)
    loan = make_loan(borrower)
    token_before = card.mandates.get().token
    password_change(actor=borrower, new_password="a-brand-new-pass-456")

    [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert attempt.status == "succeeded" and attempt.mandate.token == token_before
    assert card.mandates.get().status == Mandate.Status.ACTIVE


def borrowers_with_loans(bind, make_loan, numbers):
    from accounts.services import identity_verify
    from accounts.tests.factories import BorrowerFactory

    loans = []
    for n, number in enumerate(numbers):
        phone = f"+86137100137{n:02d}"
        user = BorrowerFactory(phone=phone)
        identity_verify(actor=user, real_name="李四", id_number=IDS[n])
        bind(user, number, reserved=phone)
        loans.append(make_loan(user))
    return loans


IDS = ["110105198001010016", "110105198502020028", "110105199003030031", "110105197504040044"]


def test_one_batch_collects_each_loan_on_its_own_outcome(bind, make_loan):
    good, poor, revoked = borrowers_with_loans(
        bind,
        make_loan,
        [sandbox_cards.GOOD_DEBIT, sandbox_cards.INSUFFICIENT_FUNDS, sandbox_cards.HARD_FAIL],
    )
    attempts = loans_collect(loan_ids=[good.pk, poor.pk, revoked.pk], day=FIRST_DUE)
    outcome = {a.installment.loan_id: (a.status, a.failure_code) for a in attempts}
    assert outcome == {
        good.pk: ("succeeded", ""),
        poor.pk: ("failed", "insufficient_funds"),
        revoked.pk: ("failed", "mandate_revoked"),
    }
    assert Notification.objects.filter(kind__startswith="debit_failed").count() == 2
    assert AuditEvent.objects.filter(action="debit.started").count() == 3
    assert AuditEvent.objects.filter(action__in=["debit.succeeded", "debit.failed"]).count() == 3


def test_a_batch_runs_the_same_queries_for_one_loan_and_for_three(bind, make_loan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first, *others = borrowers_with_loans(
        bind,
        make_loan,
        [
            sandbox_cards.GOOD_DEBIT,
            sandbox_cards.OTHER_GOOD_DEBIT,
            sandbox_cards.THIRD_GOOD_DEBIT,
            sandbox_cards.CMB_DEBIT_16,
        ],
    )
    with CaptureQueriesContext(connection) as one:
        loans_collect(loan_ids=[first.pk], day=FIRST_DUE)
    with CaptureQueriesContext(connection) as three:
        attempts = loans_collect(loan_ids=[loan.pk for loan in others], day=FIRST_DUE)
    assert [a.status for a in attempts] == ["succeeded"] * 3
    assert len(three) == len(one)


def test_insufficient_funds_on_the_due_date_leaves_the_installment_due_until_the_window_closes(
    bind, borrower, make_loan, settings, action_code, bank
):
    from accounts.notifications import render
    from cards.services import card_repayment_set
    from lending.money import money
    from lending.tasks import mark_overdue_installments

    settings.AUTODEBIT_WINDOW_CLOSES_AT, settings.AUTODEBIT_RETRY_DAYS = (18, 0), (1, 2, 3)
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    loan = make_loan(borrower)
    with bank.travel(at(FIRST_DUE, 8)):
        [attempt] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)

    assert (attempt.status, attempt.failure_code) == ("failed", "insufficient_funds")
    installment = first(loan)
    assert installment.status == Installment.Status.DUE
    assert installment.next_attempt_at == collection_start(FIRST_DUE + timedelta(days=1))
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE
    # The borrower is told the debit failed, and nothing says overdue.
    notice = Notification.objects.get(user=borrower, kind__startswith="debit_failed")
    sms = SmsMessage.objects.get(template="debit_failed_retry")
    texts = " ".join([*render(notice.kind, notice.params), sms.body])
    assert notice.kind == "debit_failed_retry" and str(FIRST_DUE + timedelta(days=1)) in texts
    assert "overdue" not in texts.lower() and "逾期" not in texts
    assert money(attempt.amount) in sms.body and "," in money(attempt.amount)  # ¥3,650.38, not ¥3650.38

    with bank.travel(at(FIRST_DUE, 17, 59)):  # the window is still open
        assert mark_overdue_installments() == 0
    assert first(loan).status == Installment.Status.DUE

    with bank.travel(at(FIRST_DUE, 18)):  # beat, at the close
        assert mark_overdue_installments() == 1
    installment = first(loan)
    assert installment.status == Installment.Status.OVERDUE
    assert installment.next_attempt_at == collection_start(FIRST_DUE + timedelta(days=1))  # retry kept
    assert installment.history.first().history_change_reason == "not collected by the close of its due day"
    loan.refresh_from_db()
    assert loan.status == Loan.Status.OVERDUE
    assert loan.history.first().history_change_reason == "an installment was not collected"
    event = AuditEvent.objects.get(action="installment.overdue")
    assert event.subject_id == str(installment.pk) and event.actor_kind == AuditEvent.ActorKind.SYSTEM
    assert event.data == {
        "loan": loan.pk,
        "installment": 1,
        "due_date": FIRST_DUE.isoformat(),
        "amount": str(installment.amount_due),
    }

    histories = installment.history.count(), loan.history.count()
    with bank.travel(at(FIRST_DUE, 18, 5)):  # marking again changes nothing
        assert installments_overdue_mark(day=FIRST_DUE) == 0
    assert (installment.history.count(), loan.history.count()) == histories
    assert AuditEvent.objects.filter(action="installment.overdue").count() == 1

    next_day = FIRST_DUE + timedelta(days=1)  # the borrower chooses a card with money; the retry pays
    good = bind(borrower, sandbox_cards.GOOD_DEBIT)
    card_repayment_set(actor=borrower, card=good, code=action_code(borrower, "card_repayment", good.pk))
    with bank.travel(at(next_day, 8)):
        [retry] = loans_collect(loan_ids=[loan.pk], day=next_day)
    assert (retry.status, retry.number, retry.card) == ("succeeded", 2, good)
    assert first(loan).status == Installment.Status.PAID
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE


def test_a_failed_retry_after_the_due_date_makes_the_installment_overdue_at_once(
    bind, borrower, make_loan, settings, bank
):
    settings.AUTODEBIT_RETRY_DAYS = (1, 2, 3)
    bind(borrower, sandbox_cards.INSUFFICIENT_FUNDS)
    loan = make_loan(borrower)
    next_day = FIRST_DUE + timedelta(days=1)  # nothing marked it at the close (say beat was down)
    with bank.travel(at(next_day, 8)):
        [attempt] = loans_collect(loan_ids=[loan.pk], day=next_day)
    assert attempt.status == "failed"
    assert first(loan).status == Installment.Status.OVERDUE
    loan.refresh_from_db()
    assert loan.status == Loan.Status.OVERDUE


def test_the_next_morning_run_marks_what_the_close_left_due(bind, borrower, make_loan, bank):
    from lending.tasks import collect_due_installments

    bind(borrower, sandbox_cards.HARD_FAIL)
    loan = make_loan(borrower)
    with bank.travel(at(FIRST_DUE, 8)):
        collect_due_installments(day=FIRST_DUE.isoformat())
    assert (first(loan).status, first(loan).next_attempt_at) == (Installment.Status.DUE, None)

    next_day = FIRST_DUE + timedelta(days=1)  # beat missed the close: the morning run marks it
    with bank.travel(at(next_day, 8)):
        collect_due_installments(day=next_day.isoformat())
    assert first(loan).status == Installment.Status.OVERDUE
    loan.refresh_from_db()
    assert loan.status == Loan.Status.OVERDUE
    assert AuditEvent.objects.filter(action="installment.overdue").count() == 1


def test_an_installment_whose_debit_awaits_the_bank_at_the_close_is_left_to_its_answer(
    bind, borrower, make_loan, bank
):
    bind(borrower)
    loan = make_loan(borrower)
    with bank.travel(at(FIRST_DUE, 17, 55)):
        [opened] = debit_attempts_open(installment_ids=[first(loan).pk], day=FIRST_DUE)
        bank_outcomes([opened])  # the bank debits; the worker dies before settling
    with bank.travel(at(FIRST_DUE, 18)):
        assert installments_overdue_mark(day=FIRST_DUE) == 0
    assert first(loan).status == Installment.Status.DUE

    with bank.travel(at(FIRST_DUE, 18, 15)):
        [settled] = loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    assert settled.status == "succeeded" and first(loan).status == Installment.Status.PAID
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE
    assert not AuditEvent.objects.filter(action="installment.overdue").exists()
