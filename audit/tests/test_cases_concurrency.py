"""Two officers deciding the same case at the same moment on PostgreSQL: one decision stands."""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import StaffFactory
from audit.models import ReviewCase, ReviewDecision
from audit.services import ReviewRefused, review_case_decide

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("verdicts", [("approve", "reject"), ("approve", "approve"), ("reject", "reject")])
def test_simultaneous_decisions_give_exactly_one(open_case, test_kind, verdicts):
    case = open_case(score=10)
    officers = [StaffFactory(role="officer") for _ in verdicts]
    start = threading.Barrier(len(officers))
    outcomes = []

    def decide(officer, verdict):
        try:
            start.wait()
            review_case_decide(actor=officer, case_id=case.pk, verdict=verdict, reason="checked")
            outcomes.append("decided")
        except ReviewRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=pair) for pair in zip(officers, verdicts, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["decided", "refused"]
    assert ReviewDecision.objects.count() == 1
    assert ReviewCase.objects.get().status in ("approved", "rejected")
    assert len(test_kind.approved) + len(test_kind.rejected) == 1
