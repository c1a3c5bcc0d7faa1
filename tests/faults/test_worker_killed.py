"""A Celery worker killed with SIGKILL in the middle of the morning collection (a real worker
process on Redis, stopped at a known point, then killed; the sandbox bank server holds its debit
request unanswered when it is to be killed at the bank): everything is collected the same
morning, once at the bank, and no borrower is told of a failure that did not happen."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import Notification, SmsMessage
from audit.models import AuditEvent
from cards.tests import sandbox_cards
from conftest import broker, wait_until
from lending.models import DebitAttempt, Installment, Loan
from lending.tasks import collect_due_installments, collect_stragglers
from lending.tests.conftest import FIRST_DUE
from lending.tests.test_collection import at, borrowers_with_loans

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def killable_worker(redis_url: str, tmp_path, bank, *, stop: str, now):
    """A worker process on this test's database, Redis and sandbox bank, its clock (and the
    bank's) at ``now``; yields the process and a check that it has stopped at ``stop``:
    ``bank``, its debits sent and held unanswered by the bank, or ``chunk``, as a
    ``collect_loans`` task starts (nothing opened yet)."""
    db = connection.settings_dict
    stopped, log = tmp_path / "stopped", tmp_path / "worker.log"
    bank.admin("POST", "/sandbox/clock", {"now": now.timestamp()})
    if stop == "bank":
        bank.arm("timeout", operation="debit_batch", mode="sleep", seconds=120)
        reached = lambda: not bank.admin("GET", "/sandbox/faults")["armed"]  # noqa: E731
    else:
        reached = stopped.exists
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lending.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": redis_url,
        "TEST_WORKER_NOW": now.isoformat(),
        "TEST_WORKER_STOP": stop,
        "TEST_WORKER_STOPPED": str(stopped),
        **bank.environment(),
    }
    command = [sys.executable, "-m", "celery", "-A", "tests.faults.killable_worker", "worker"]
    command += ["--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process, reached
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def kill_when_stopped(process, reached, log: Path) -> None:
    try:
        wait_until(reached, timeout=60)
    except AssertionError:
        raise AssertionError("the worker never stopped:\n" + log.read_text()) from None
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def nobody_told_of_a_failure(sms_outbox) -> bool:
    return (
        not Notification.objects.filter(kind__startswith="debit_failed").exists()
        and not SmsMessage.objects.filter(template__startswith="debit_failed").exists()
        and not sms_outbox  # cleared after binding: no text at all since
    )


def three_loans(bind, make_loan):
    good = [sandbox_cards.GOOD_DEBIT, sandbox_cards.OTHER_GOOD_DEBIT, sandbox_cards.THIRD_GOOD_DEBIT]
    return borrowers_with_loans(bind, make_loan, good)


def test_attempts_opened_by_a_worker_killed_before_it_called_the_bank_are_sent_again_the_same_morning(
    bind, make_loan, redis_url, tmp_path, sms_outbox, bank
):
    loans = three_loans(bind, make_loan)
    with killable_worker(redis_url, tmp_path, bank, stop="bank", now=at(FIRST_DUE, 8)) as (worker, reached):
        with broker(redis_url):
            collect_due_installments.delay(day=FIRST_DUE.isoformat())  # beat's morning run
        kill_when_stopped(worker, reached, tmp_path / "worker.log")

    opened = {a.idempotency_key: a for a in DebitAttempt.objects.all()}
    assert len(opened) == 3 and {a.status for a in opened.values()} == {"pending"}
    assert AuditEvent.objects.filter(action="debit.started").count() == 3
    assert not bank.debits()  # the bank never processed them
    sms_outbox.clear()  # the texts from binding

    with bank.travel(at(FIRST_DUE, 8, 20)):
        assert collect_stragglers() == 1  # beat's follow-up run, past the in-flight time

    attempts = list(DebitAttempt.objects.all())
    assert {a.idempotency_key for a in attempts} == set(opened)  # the same keys, no new attempt
    assert {(a.status, a.resent_count, a.trigger) for a in attempts} == {("succeeded", 1, "schedule")}
    debits = [(debit["order_no"], debit["status"]) for debit in bank.debits()]
    assert sorted(debits) == sorted((key, "succeeded") for key in opened)  # one debit each
    assert set(Installment.objects.filter(number=1).values_list("status", flat=True)) == {"paid"}
    assert set(Loan.objects.filter(pk__in=[loan.pk for loan in loans]).values_list("status", flat=True)) == {
        "active"
    }
    assert AuditEvent.objects.filter(action="debit.resent").count() == 3
    assert not AuditEvent.objects.filter(action="debit.failed").exists()
    assert nobody_told_of_a_failure(sms_outbox)


def test_loans_a_worker_held_when_killed_before_opening_them_are_picked_up_by_the_follow_up_run(
    bind, make_loan, redis_url, tmp_path, sms_outbox, bank
):
    loans = three_loans(bind, make_loan)
    with killable_worker(redis_url, tmp_path, bank, stop="chunk", now=at(FIRST_DUE, 8)) as (worker, reached):
        with broker(redis_url):
            collect_due_installments.delay(day=FIRST_DUE.isoformat())
        kill_when_stopped(worker, reached, tmp_path / "worker.log")
    assert not DebitAttempt.objects.exists()  # its chunk waits for the broker's visibility timeout
    sms_outbox.clear()

    with bank.travel(at(FIRST_DUE, 8, 10)):
        assert collect_stragglers() == 1

    attempts = list(DebitAttempt.objects.select_related("installment"))
    assert sorted(a.installment.loan_id for a in attempts) == sorted(loan.pk for loan in loans)
    assert {(a.status, a.trigger, a.resent_count) for a in attempts} == {("succeeded", "follow_up", 0)}
    assert sorted(debit["order_no"] for debit in bank.debits()) == sorted(a.idempotency_key for a in attempts)
    assert nobody_told_of_a_failure(sms_outbox)
