from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification, PhoneChange
from accounts.tests.factories import StaffFactory
from audit.actions import Action
from audit.models import AuditEvent, ReviewCase
from audit.services import record, review_case_decide
from cards.models import Card, Mandate
from cards.services import (
    UnbindRefused,
    card_repayment_set,
    card_swap,
    card_unbind,
    cards_unbind_all,
)
from cards.services.repayment import RepaymentRefused
from cards.tasks import revoke_mandate
from cards.tests import sandbox_cards

pytestmark = pytest.mark.django_db


def test_unbinding_revokes_the_mandate_at_the_bank_and_tells_the_borrower(
    bind, action_code, deliver, sms_outbox, borrower, bank
):
    card = bind(borrower)
    code = action_code(borrower, "card_unbind", card.pk)
    with deliver():
        card = card_unbind(actor=borrower, card=card, code=code)

    assert (card.status, card.is_repayment) == ("unbound", False)
    mandate = Mandate.objects.get(card=card)
    assert mandate.status == "revoked" and mandate.revoked_at_bank is not None
    assert bank.agreement(mandate.token)["status"] == "ended"
    assert AuditEvent.objects.filter(action="card.unbound").count() == 1
    assert AuditEvent.objects.filter(action="mandate.revoked_at_bank").count() == 1
    assert "1234" in sms_outbox[-1].body
    assert Notification.objects.filter(user=borrower, kind="card_unbound").exists()


def test_a_code_for_another_card_does_not_unbind(bind, action_code, borrower):
    first = bind(borrower)
    second = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    code = action_code(borrower, "card_unbind", second.pk)
    with pytest.raises(Exception, match="wrong|no longer"):
        card_unbind(actor=borrower, card=first, code=code)
    assert Card.objects.get(pk=first.pk).status == "active"


def test_the_repayment_card_of_a_loan_cannot_be_unbound(bind, action_code, borrower, make_loan):
    card = bind(borrower)
    make_loan(borrower, principal="6000.00", term_months=6)
    with pytest.raises(UnbindRefused, match="repays a loan") as refused:
        card_unbind(actor=borrower, card=card, code="123456")
    assert refused.value.code == "repayment_card_in_use"
    assert AuditEvent.objects.get(action="card.unbind_refused").data["why"] == "repayment_card_in_use"


def test_swap_moves_repayments_then_unbinds_the_old_card(bind, action_code, deliver, borrower, make_loan):
    old = bind(borrower)
    new = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    make_loan(borrower, principal="6000.00", term_months=6)
    code = action_code(borrower, "card_swap", f"{old.pk}:{new.pk}")
    with deliver():
        card_swap(actor=borrower, old=old, new=new, code=code)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, old.is_repayment, new.is_repayment) == ("unbound", False, True)
    assert new.active_mandate is not None


def test_swap_to_a_credit_card_is_refused(bind, action_code, borrower):
    old = bind(borrower)
    credit = bind(borrower, sandbox_cards.GOOD_CREDIT)
    code = action_code(borrower, "card_swap", f"{old.pk}:{credit.pk}")
    with pytest.raises(RepaymentRefused, match="debit card"):
        card_swap(actor=borrower, old=old, new=credit, code=code)
    assert Card.objects.get(pk=old.pk).is_repayment


def test_choosing_the_repayment_card(bind, action_code, borrower):
    first = bind(borrower)
    second = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    card_repayment_set(actor=borrower, card=second, code=action_code(borrower, "card_repayment", second.pk))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_repayment, second.is_repayment) == (False, True)
    event = AuditEvent.objects.get(action="card.repayment_set")
    assert event.data == {"card": "**** 5678", "previous": "**** 1234"}


def test_unbind_all_is_refused_while_a_loan_is_repaid(bind, action_code, borrower, make_loan):
    bind(borrower)
    make_loan(borrower, principal="6000.00", term_months=6)
    with pytest.raises(UnbindRefused, match="loan being repaid"):
        cards_unbind_all(actor=borrower, code="123456")


def test_unbind_all(bind, action_code, deliver, borrower):
    bind(borrower)
    bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    code = action_code(borrower, "cards_unbind_all", borrower.pk)
    with deliver():
        cards = cards_unbind_all(actor=borrower, code=code)
    assert sorted(card.status for card in cards) == ["unbound", "unbound"]
    assert not Card.objects.filter(user=borrower, status="active").exists()


def test_after_a_phone_change_an_unbind_goes_to_review_and_approval_completes_it(
    bind, action_code, deliver, borrower
):
    card = bind(borrower)
    PhoneChange.objects.create(
        user=borrower, status="completed", old_phone_masked="x", completed_at=timezone.now()
    )
    card = card_unbind(actor=borrower, card=card, code=action_code(borrower, "card_unbind", card.pk))
    assert card.status == "pending_review"
    case = ReviewCase.objects.get()
    assert (case.kind, [r["code"] for r in case.reasons]) == ("card_unbind", ["recent_phone_change"])
    with deliver():
        review_case_decide(
            actor=StaffFactory(role="officer"), case_id=case.pk, verdict="approve", reason="called back"
        )
    card.refresh_from_db()
    assert card.status == "unbound" and Mandate.objects.get(card=card).revoked_at_bank is not None


def test_a_rejected_unbind_keeps_the_card(bind, action_code, borrower):
    card = bind(borrower)
    PhoneChange.objects.create(
        user=borrower, status="completed", old_phone_masked="x", completed_at=timezone.now()
    )
    card_unbind(actor=borrower, card=card, code=action_code(borrower, "card_unbind", card.pk))
    review_case_decide(
        actor=StaffFactory(role="officer"),
        case_id=ReviewCase.objects.get().pk,
        verdict="reject",
        reason="suspected takeover",
    )
    card.refresh_from_db()
    assert card.status == "active" and card.active_mandate is not None
    assert (
        Notification.objects.get(user=borrower, kind="card_unbind_rejected").params["reason"]
        == "suspected takeover"
    )


def test_unbind_velocity_routes_to_review(bind, action_code, borrower, settings):
    settings.RISK_UNBINDS_PER_USER_DAY = 0
    with transaction.atomic():
        record(action=Action.CARD_UNBOUND, actor=borrower, subject=borrower)
    card = bind(borrower)
    card = card_unbind(actor=borrower, card=card, code=action_code(borrower, "card_unbind", card.pk))
    assert card.status == "pending_review"
    assert "unbind_velocity_user" in [r["code"] for r in ReviewCase.objects.get().reasons]


def test_the_bank_unreachable_at_revoke_time_is_retried_and_done_once(
    bind, action_code, deliver, borrower, bank
):
    card = bind(borrower)
    bank.arm("timeout", operation="unsign", times=3)  # the adapter's three tries of one call
    with deliver():  # eager Celery: the task's first try fails, its retry succeeds
        card_unbind(actor=borrower, card=card, code=action_code(borrower, "card_unbind", card.pk))
    mandate = Mandate.objects.get(card=card)
    assert mandate.revoked_at_bank is not None
    assert revoke_mandate.apply(kwargs={"mandate_id": mandate.pk}).get() is False  # a repeat does nothing
    assert AuditEvent.objects.filter(action="mandate.revoked_at_bank").count() == 1


def test_takeover_pattern_routes_the_unbind_of_an_older_card_to_review(bind, action_code, borrower):
    old = bind(borrower)
    with transaction.atomic():
        record(action=Action.PHONE_CHANGED, actor=borrower, subject=borrower)
    Card.objects.filter(pk=old.pk).update(bound_at=timezone.now() - timedelta(days=30))
    bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    card = card_unbind(actor=borrower, card=old, code=action_code(borrower, "card_unbind", old.pk))
    assert card.status == "pending_review"
    assert "phone_change_bind_unbind" in [r["code"] for r in ReviewCase.objects.get().reasons]


def test_a_large_outstanding_balance_routes_an_unbind_to_review(
    bind, action_code, borrower, settings, make_loan
):
    repaying = bind(borrower)
    other = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    make_loan(borrower, principal="6000.00", term_months=6)  # owes a little over 6,000
    settings.RISK_OUTSTANDING_BALANCE = 5_000
    card = card_unbind(actor=borrower, card=other, code=action_code(borrower, "card_unbind", other.pk))
    assert card.status == "pending_review" and repaying.pk != other.pk
    assert "outstanding_balance_high" in [r["code"] for r in ReviewCase.objects.get().reasons]


def test_a_borrower_with_an_open_high_severity_alert_goes_to_review(bind, action_code, borrower):
    from audit.services import risk_scan

    with transaction.atomic():
        record(action=Action.IDENTITY_REFUSED, actor=borrower, subject=borrower)
    risk_scan()  # raises a high-severity alert about the borrower
    card = bind(borrower)
    card = card_unbind(actor=borrower, card=card, code=action_code(borrower, "card_unbind", card.pk))
    case = ReviewCase.objects.get(kind="card_unbind")
    assert card.status == "pending_review" and "borrower_high_risk" in [r["code"] for r in case.reasons]
    assert case.approvals_needed == 2  # 60 + 70: high risk, four eyes


def test_choosing_the_card_that_already_repays_writes_nothing(bind, action_code, borrower):
    card = bind(borrower)
    code = action_code(borrower, "card_repayment", card.pk)
    counts = (AuditEvent.objects.count(), Card.history.count(), Notification.objects.count())

    assert card_repayment_set(actor=borrower, card=card, code=code).is_repayment
    assert (AuditEvent.objects.count(), Card.history.count(), Notification.objects.count()) == counts
    assert not AuditEvent.objects.filter(action="card.repayment_set").exists()
