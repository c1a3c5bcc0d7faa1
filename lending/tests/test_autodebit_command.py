from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cards.tests import sandbox_cards
from lending.models import DebitAttempt
from lending.tests.conftest import FIRST_DUE

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("run_autodebit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_dry_run_shows_what_is_due_and_debits_nothing(bind, borrower, make_loan, bank):
    bind(borrower)
    loan = make_loan(borrower)
    out, _ = run("--date", FIRST_DUE.isoformat(), "--dry-run")
    amount = loan.installments.get(number=1).amount_due
    assert f"1 installments of 1 loans due, ¥{amount} in all" in out and "nothing was debited" in out
    assert not DebitAttempt.objects.exists() and not bank.debits()


def test_a_run_collects_with_a_progress_bar_and_a_summary(bind, borrower, make_loan):
    from accounts.services import identity_verify
    from accounts.tests.factories import BorrowerFactory

    bind(borrower)
    make_loan(borrower)
    poor = BorrowerFactory(phone="+8613900139000")
    identity_verify(actor=poor, real_name="李四", id_number="11010519491231002X")
    bind(poor, sandbox_cards.INSUFFICIENT_FUNDS, reserved="+8613900139000")
    make_loan(poor)

    out, err = run("--date", FIRST_DUE.isoformat())
    assert "2/2" in err and "loan" in err  # the progress bar
    assert "Collected 1, failed 0, to retry 1, waiting for the bank 0." in out
    assert "6222" not in out + err and "9995" not in out + err


def test_a_bad_date_is_a_clear_error():
    with pytest.raises(CommandError, match="2026-12-01"):
        run("--date", "tomorrow")


def test_the_demo_loan_is_collected_by_the_command_it_names_and_the_portal_shows_it(
    settings, capsys, sign_in
):
    import re

    from accounts.models import User

    settings.DEBUG = True
    call_command("seed_demo")
    day = re.search(r"run_autodebit --date (\S+)", capsys.readouterr().out).group(1)
    out, _ = run("--date", day)
    assert "Collected 1, failed 0" in out
    borrower = User.objects.get(phone="+8613800138000")
    loan = borrower.loans.get()
    page = sign_in(borrower).get(f"/loans/{loan.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "**** 1234" in page and "Collected" in page


def test_a_follow_up_run_after_a_crash_counts_what_it_sent_again_and_the_loans_it_picked_up_late(
    bind, borrower, make_loan, bank
):

    from lending.services import debit_attempts_open
    from lending.tests.test_collection import at, borrowers_with_loans

    crashed, missed = borrowers_with_loans(
        bind, make_loan, [sandbox_cards.GOOD_DEBIT, sandbox_cards.OTHER_GOOD_DEBIT]
    )
    with bank.travel(at(FIRST_DUE, 8)):  # the worker died before calling the bank
        debit_attempts_open(installment_ids=[crashed.installments.get(number=1).pk], day=FIRST_DUE)
    with bank.travel(at(FIRST_DUE, 8, 20)):
        out, _ = run("--date", FIRST_DUE.isoformat(), "--follow-up")

    assert "Collected 2, failed 0, to retry 0, waiting for the bank 0." in out
    assert "Sent again (the bank had not received them): 1. Loans picked up late: 1." in out
    late = DebitAttempt.objects.get(installment__loan=missed)
    assert late.trigger == DebitAttempt.Trigger.FOLLOW_UP and late.resent_count == 0
    assert DebitAttempt.objects.get(installment__loan=crashed).resent_count == 1
    assert len(bank.debits()) == 2


def test_the_demo_borrower_repays_an_overdue_installment_from_another_card(
    settings, capsys, sign_in, action_code, repay_code, bank
):
    """The README's demo: choose the empty card **** 9995, run the command seed_demo names, then
    repay the overdue installment from **** 1234."""
    import re

    from accounts.models import User
    from cards.services import card_repayment_set
    from lending.services.repayment import loan_repay

    settings.DEBUG = True
    call_command("seed_demo")
    day = re.search(r"run: python manage.py run_autodebit --date (\S+)", capsys.readouterr().out).group(1)
    borrower = User.objects.get(phone="+8613800138000")
    good, empty = borrower.cards.order_by("bound_at")
    card_repayment_set(actor=borrower, card=empty, code=action_code(borrower, "card_repayment", empty.pk))
    out, _ = run("--date", day)
    assert "Collected 0, failed 0, to retry 1" in out  # not enough money: retried, and overdue
    loan = borrower.loans.get()
    first = loan.installments.get(number=1)
    assert first.status == "overdue"
    page = sign_in(borrower).get(f"/loans/{loan.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Overdue" in page and f'href="/loans/{loan.pk}/repay/"' in page

    repayment = loan_repay(
        actor=borrower,
        loan=loan,
        installment_ids=[first.pk],
        card_id=good.pk,
        code=repay_code(borrower, loan),
        payment_ref="c" * 32,
    )
    assert [a.status for a in repayment.attempts] == ["succeeded"]
    assert [d["order_no"] for d in bank.debits(status="succeeded")] == [repayment.attempts[0].idempotency_key]
