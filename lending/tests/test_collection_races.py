"""At most one successful debit per installment when runs overlap: threads on PostgreSQL, a real worker."""

import pytest

from audit.tests.test_notifications_worker import drain
from conftest import wait_until
from lending.models import DebitAttempt, Installment
from lending.services import loans_collect
from lending.tasks import collect_due_installments, collect_loans
from lending.tests.conftest import FIRST_DUE
from lending.tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_collecting_the_same_loan_debit_once(bind, borrower, make_loan, bank):
    bind(borrower)
    loan = make_loan(borrower, term_months=2)
    last_due = loan.installments.get(number=2).due_date

    outcomes = race(*[lambda: loans_collect(loan_ids=[loan.pk], day=last_due)] * 4)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert DebitAttempt.objects.filter(status="succeeded").count() == 2
    assert len(bank.debits(status="succeeded")) == 2
    assert DebitAttempt.objects.exclude(status="succeeded").count() == 0
    assert set(Installment.objects.values_list("status", flat=True)) == {"paid"}


@pytest.mark.redis
def test_the_beat_run_fans_out_in_chunks_and_a_replay_collects_nothing_more(
    request, bind, borrower, make_loan, settings, bank
):
    from accounts.services import identity_verify
    from accounts.tests.factories import BorrowerFactory
    from cards.tests import sandbox_cards

    bind(borrower)
    first_loan = make_loan(borrower)
    other = BorrowerFactory(phone="+8613900139000")
    identity_verify(actor=other, real_name="李四", id_number="11010519491231002X")
    bind(other, sandbox_cards.THIRD_GOOD_DEBIT, reserved="+8613900139000")
    second_loan = make_loan(other)
    request.getfixturevalue("celery_worker")  # started after binding, whose bank codes are read eagerly

    settings.AUTODEBIT_LOANS_PER_TASK = 1
    assert collect_due_installments(day=FIRST_DUE.isoformat()) == 2  # two tasks sent to the worker
    wait_until(lambda: DebitAttempt.objects.filter(status="succeeded").count() == 2)
    # A replayed beat run and a duplicated per-loan task: nothing more is debited.
    collect_due_installments.delay(day=FIRST_DUE.isoformat())
    collect_loans.delay([first_loan.pk], FIRST_DUE.isoformat())
    collect_loans.delay([second_loan.pk, first_loan.pk], FIRST_DUE.isoformat())
    drain("after-replay")

    assert DebitAttempt.objects.count() == len(bank.debits()) == 2
    assert set(DebitAttempt.objects.values_list("installment__loan", flat=True)) == {
        first_loan.pk,
        second_loan.pk,
    }
