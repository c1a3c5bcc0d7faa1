"""The card rules in the scheduled scan (request-time routing is in test_unbinding)."""

import pytest
from django.db import transaction

from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory
from audit.actions import Action
from audit.models import RiskAlert
from audit.services import record, risk_scan
from cards.services import CardRefused, card_bind_start
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED

pytestmark = pytest.mark.django_db


def event(action, user):
    with transaction.atomic():
        record(action=action, actor=user, subject=user)


def test_the_takeover_pattern_raises_an_alert(bind, borrower):
    event(Action.PHONE_CHANGED, borrower)
    bind(borrower)
    event(Action.CARD_UNBOUND, borrower)
    assert [alert.rule for alert in risk_scan()] == ["phone_change_bind_unbind"]
    assert RiskAlert.objects.get().borrower == borrower


def test_unbind_velocity_raises_alerts_per_user_and_platform(borrower, settings):
    settings.RISK_UNBINDS_PER_USER_DAY = 1
    settings.RISK_UNBINDS_PLATFORM_HOUR = 1
    event(Action.CARD_UNBOUND, borrower)
    event(Action.CARD_UNBOUND, borrower)
    assert sorted(alert.rule for alert in risk_scan()) == ["unbind_velocity_platform", "unbind_velocity_user"]


def test_one_card_tried_on_several_accounts_raises_one_alert(bind, deliver, borrower):
    bind(borrower)
    other = BorrowerFactory()
    identity_verify(actor=other, real_name="李四", id_number="310101198506152345")
    with pytest.raises(CardRefused):
        card_bind_start(actor=other, card_number=sandbox_cards.GOOD_DEBIT, reserved_phone=RESERVED)
    assert RiskAlert.objects.filter(rule="card_on_several_accounts").count() == 1  # raised at once
    risk_scan()
    assert RiskAlert.objects.filter(rule="card_on_several_accounts").count() == 1  # not again by the scan
