"""A Celery worker killed with SIGKILL in the middle of the morning collection (a real worker
process on Redis, stopped at a known point, then killed): everything is collected the same
morning, once, and no borrower is told of a failure that did not happen."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from accounts.models import Notification, SmsMessage
from audit.models import AuditEvent
from cards.sandbox_bank.models import BankDebit
from cards.tests import sandbox_cards
from conftest import broker, wait_until
from lending.models import DebitAttempt, Installment, Loan
from lending.tasks import collect_due_installments, collect_stragglers
from lending.tests.conftest import FIRST_DUE
from lending.tests.test_collection import at, borrowers_with_loans

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def killable_worker(redis_url: str, tmp_path, *, stop: str, now):
    """A worker process on this test's database and Redis, its clock at ``now``; yields the
    process and the file it writes once it has stopped at ``stop``."""
    db = connection.settings_dict
    stopped, log = tmp_path / "stopped", tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lending.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": redis_url,
        "TEST_WORKER_NOW": now.isoformat(),
        "TEST_WORKER_STOP": stop,
        "TEST_WORKER_STOPPED": str(stopped),
    }
    if stop == "bank":
        env["BANK_GATEWAY"] = "tests.faults.killable_worker.StoppingBank"
    command = [sys.executable, "-m", "celery", "-A", "tests.faults.killable_worker", "worker"]
    command += ["--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process, stopped
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def kill_when_stopped(process, stopped: Path) -> None:
    try:
        wait_until(stopped.exists, timeout=60)
    except AssertionError:
        raise AssertionError(
            "the worker never stopped:\n" + (stopped.parent / "worker.log").read_text()
        ) from None
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
    bind, make_loan, redis_url, tmp_path, sms_outbox
):
    loans = three_loans(bind, make_loan)
    with killable_worker(redis_url, tmp_path, stop="bank", now=at(FIRST_DUE, 8)) as (worker, stopped):
        with broker(redis_url):
            collect_due_installments.delay(day=FIRST_DUE.isoformat())  # beat's morning run
        kill_when_stopped(worker, stopped)

    opened = {a.idempotency_key: a for a in DebitAttempt.objects.all()}
    assert len(opened) == 3 and {a.status for a in opened.values()} == {"pending"}
    assert AuditEvent.objects.filter(action="debit.started").count() == 3
    assert not BankDebit.objects.exists()  # the bank never heard of them
    sms_outbox.clear()  # the bank's codes from binding

    with time_machine.travel(at(FIRST_DUE, 8, 20), tick=False):
        assert collect_stragglers() == 1  # beat's follow-up run, past the in-flight time

    attempts = list(DebitAttempt.objects.all())
    assert {a.idempotency_key for a in attempts} == set(opened)  # the same keys, no new attempt
    assert {(a.status, a.resent_count, a.trigger) for a in attempts} == {("succeeded", 1, "schedule")}
    debits = list(BankDebit.objects.values_list("idempotency_key", "succeeded"))
    assert sorted(debits) == sorted((key, True) for key in opened)  # one debit each
    assert set(Installment.objects.filter(number=1).values_list("status", flat=True)) == {"paid"}
    assert set(Loan.objects.filter(pk__in=[loan.pk for loan in loans]).values_list("status", flat=True)) == {
        "active"
    }
    assert AuditEvent.objects.filter(action="debit.resent").count() == 3
    assert not AuditEvent.objects.filter(action="debit.failed").exists()
    assert nobody_told_of_a_failure(sms_outbox)


def test_loans_a_worker_held_when_killed_before_opening_them_are_picked_up_by_the_follow_up_run(
    bind, make_loan, redis_url, tmp_path, sms_outbox
):
    loans = three_loans(bind, make_loan)
    with killable_worker(redis_url, tmp_path, stop="chunk", now=at(FIRST_DUE, 8)) as (worker, stopped):
        with broker(redis_url):
            collect_due_installments.delay(day=FIRST_DUE.isoformat())
        kill_when_stopped(worker, stopped)
    assert not DebitAttempt.objects.exists()  # its chunk waits for the broker's visibility timeout
    sms_outbox.clear()

    with time_machine.travel(at(FIRST_DUE, 8, 10), tick=False):
        assert collect_stragglers() == 1

    attempts = list(DebitAttempt.objects.select_related("installment"))
    assert sorted(a.installment.loan_id for a in attempts) == sorted(loan.pk for loan in loans)
    assert {(a.status, a.trigger, a.resent_count) for a in attempts} == {("succeeded", "follow_up", 0)}
    assert sorted(BankDebit.objects.values_list("idempotency_key", flat=True)) == sorted(
        a.idempotency_key for a in attempts
    )
    assert nobody_told_of_a_failure(sms_outbox)
