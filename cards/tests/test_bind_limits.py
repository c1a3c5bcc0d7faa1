"""Limits on starting a binding: each start costs a bank call and texts the reserved phone."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory
from audit.context import RequestContext, bound_request
from audit.models import AuditEvent, RiskAlert
from audit.services import risk_scan
from cards.models import CardBindRequest
from cards.services import CardRefused, card_bind_start
from cards.services.binding import BindLimitReached
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED
from lending.pii import mask_phone

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
IP = "203.0.113.7"
LIMITS = {
    "BIND_STARTS_PER_USER_DAY": "too_many_binds",
    "BIND_STARTS_PER_IP_DAY": "too_many_binds_ip",
    "BIND_STARTS_PER_CARD_DAY": "too_many_binds_card",
    "BIND_STARTS_PER_RESERVED_PHONE_DAY": "too_many_binds_phone",
}


def start(deliver, user, number=sandbox_cards.GOOD_DEBIT, reserved=RESERVED, ip=IP):
    with bound_request(RequestContext("r", ip, "")), deliver():
        return card_bind_start(actor=user, card_number=number, reserved_phone=reserved)


def bank_texts(bank, to=RESERVED) -> int:
    """The bank's sign-up codes (签约短信) sent to ``to``, counted at the bank."""
    return sum(1 for text in bank.texts() if text["phone_masked"] == mask_phone(to))


def other_borrower():
    user = BorrowerFactory()
    identity_verify(actor=user, real_name="李四", id_number="310101198506152345")
    return user


@pytest.mark.parametrize("setting", LIMITS)
def test_each_limit_refuses_the_next_start_says_when_and_frees_a_day_later(
    settings, deliver, bank, borrower, setting
):
    for other in LIMITS:
        setattr(settings, other, 100)
    setattr(settings, setting, 2)
    with bank.travel(T0) as clock:
        start(deliver, borrower)
        clock.shift(timedelta(hours=1))
        start(deliver, borrower)
        clock.shift(timedelta(hours=1))

        with pytest.raises(BindLimitReached) as refused:
            start(deliver, borrower)

        assert refused.value.code == LIMITS[setting]
        assert refused.value.retry_at == T0 + timedelta(days=1)
        assert "March 3, 2026, 9:30 a.m." in refused.value.message  # Shanghai time
        assert bank_texts(bank) == 2 and CardBindRequest.objects.count() == 2
        event = AuditEvent.objects.get(action="card.bind_refused")
        assert event.data == {
            "bank": "ICBC",
            "card": "**** 1234",
            "fp": CardBindRequest.objects.first().fingerprint[:16],
            "phone": "138****8000",
            "why": LIMITS[setting],
            "until": (T0 + timedelta(days=1)).isoformat(),
        }
        assert event.ip == IP

        clock.move_to(T0 + timedelta(days=1, seconds=1))  # the first start left the window
        start(deliver, borrower)
        assert bank_texts(bank) == 3
        with pytest.raises(BindLimitReached) as refused:
            start(deliver, borrower)
        assert refused.value.retry_at == T0 + timedelta(days=1, hours=1)


def test_a_borrower_retyping_one_reserved_phone_gets_it_texted_three_times_not_fifteen(
    deliver, bank, borrower
):
    refusals = []
    for _try in range(15):
        try:
            start(deliver, borrower)
        except BindLimitReached as exc:
            refusals.append(exc.code)
    assert bank_texts(bank) == 3
    assert len(refusals) == 12 and AuditEvent.objects.filter(action="card.bind_refused").count() == 12


def test_the_reserved_phone_limit_holds_across_borrowers(deliver, bank, borrower):
    start(deliver, borrower, sandbox_cards.GOOD_DEBIT)
    start(deliver, borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    other = other_borrower()
    start(deliver, other, sandbox_cards.THIRD_GOOD_DEBIT, ip="198.51.100.2")

    with pytest.raises(BindLimitReached) as refused:
        start(deliver, other, sandbox_cards.CMB_DEBIT_16, ip="198.51.100.2")

    assert refused.value.code == "too_many_binds_phone" and "reserved phone" in refused.value.message
    assert bank_texts(bank) == 3
    start(deliver, other, sandbox_cards.CMB_DEBIT_16, reserved="+8613900139000", ip="198.51.100.2")
    assert bank_texts(bank, to="+8613900139000") == 1


def test_the_client_ip_limit_holds_across_borrowers(settings, deliver, bank, borrower):
    settings.BIND_STARTS_PER_IP_DAY = 2
    start(deliver, borrower, sandbox_cards.GOOD_DEBIT)
    other = other_borrower()
    start(deliver, other, sandbox_cards.OTHER_GOOD_DEBIT, reserved="+8613900139000")
    with pytest.raises(BindLimitReached) as refused:
        start(deliver, other, sandbox_cards.THIRD_GOOD_DEBIT, reserved="+8613900139000")
    assert refused.value.code == "too_many_binds_ip"
    start(deliver, other, sandbox_cards.THIRD_GOOD_DEBIT, reserved="+8613900139000", ip="198.51.100.2")


def test_repeated_four_element_failures_raise_one_alert_for_the_borrower(settings, deliver, borrower):
    for setting in LIMITS:
        setattr(settings, setting, 100)  # this test is about the alert, not the limits
    for _try in range(settings.RISK_FOUR_ELEMENT_FAILURES_DAY - 1):
        with pytest.raises(CardRefused, match="could not match"):
            start(deliver, borrower, sandbox_cards.FOUR_ELEMENTS_FAIL)
    assert not RiskAlert.objects.exists()

    for _try in range(2):
        with pytest.raises(CardRefused, match="could not match"):
            start(deliver, borrower, sandbox_cards.FOUR_ELEMENTS_FAIL)

    alert = RiskAlert.objects.get()
    assert (alert.rule, alert.severity, alert.borrower, alert.evidence["count"]) == (
        "bind_four_element_failures",
        "high",
        borrower,
        settings.RISK_FOUR_ELEMENT_FAILURES_DAY,
    )
    assert risk_scan() == [] and RiskAlert.objects.count() == 1


def test_the_scheduled_scan_finds_four_element_failures_too(settings, borrower):
    CardBindRequest.objects.bulk_create(
        CardBindRequest(
            user=borrower,
            bin="622202",
            last4="0002",
            bank_code="ICBC",
            card_type="debit",
            fingerprint="f",
            holder_name="张三",
            status="failed",
            failure_code="four_elements",
        )
        for _n in range(settings.RISK_FOUR_ELEMENT_FAILURES_DAY)
    )
    [alert] = risk_scan()
    assert (alert.rule, alert.borrower) == ("bind_four_element_failures", borrower)


def test_other_bank_refusals_raise_no_alert(settings, deliver, borrower):
    settings.BIND_STARTS_PER_CARD_DAY = 100
    for _try in range(settings.RISK_FOUR_ELEMENT_FAILURES_DAY):
        with pytest.raises(CardRefused, match="closed"):
            start(deliver, borrower, sandbox_cards.CARD_CLOSED)
    assert not RiskAlert.objects.exists() and risk_scan() == []


def test_the_bind_page_shows_the_refusal_on_the_form(settings, sign_in, deliver, borrower):
    settings.BIND_STARTS_PER_USER_DAY = 1
    client = sign_in(borrower)
    form = {"card_number": sandbox_cards.GOOD_DEBIT, "reserved_phone": RESERVED}
    with deliver():
        assert client.post("/cards/bind/", form).status_code == 302

    response = client.post("/cards/bind/", form, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "Too many card bindings were started. You can start another after" in response.content.decode()
    assert CardBindRequest.objects.count() == 1
