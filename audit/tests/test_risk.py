"""Each risk rule on crafted audit events: at request time (assess) and in the scheduled scan."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import BorrowerFactory
from audit import risk
from audit.actions import Action
from audit.context import RequestContext, bound_request
from audit.services import SubjectRef, record

pytestmark = pytest.mark.django_db


def event(action, *, actor=None, subject=None, ip="198.51.100.7", ago=timedelta(0)):
    with (
        time_machine.travel(timezone.now() - ago, tick=False),
        bound_request(RequestContext("t", ip, "")),
        transaction.atomic(),
    ):
        record(action=action, actor=actor, subject=subject)


def codes(assessment):
    return [reason.code for reason in assessment.reasons]


def scanned(since=timedelta(minutes=6)):
    return sorted((f.rule.code, f.subject_type, f.subject_id) for f in risk.scan(timezone.now() - since))


def test_nothing_unusual_scores_zero():
    borrower = BorrowerFactory()
    event(Action.LOGIN_SUCCEEDED, actor=borrower, subject=borrower)
    assert risk.assess(user_id=borrower.pk, ip="198.51.100.7").score == 0
    assert scanned() == []


def test_frequent_phone_changes(settings):
    borrower = BorrowerFactory()
    for days in range(settings.RISK_PHONE_CHANGES_30D + 1):
        event(Action.PHONE_CHANGED, actor=borrower, subject=borrower, ago=timedelta(days=days * 5))
    assert codes(risk.assess(user_id=borrower.pk, ip=None)) == ["phone_changes_frequent"]
    assert scanned() == [("phone_changes_frequent", "accounts.user", str(borrower.pk))]


def test_phone_changes_older_than_30_days_do_not_count(settings):
    borrower = BorrowerFactory()
    for _ in range(settings.RISK_PHONE_CHANGES_30D + 1):
        event(Action.PHONE_CHANGED, actor=borrower, subject=borrower, ago=timedelta(days=31))
    assert risk.assess(user_id=borrower.pk, ip=None).score == 0


def test_phone_change_requests_for_many_accounts_from_one_ip(settings):
    ip = "203.0.113.50"
    for _ in range(settings.RISK_PHONE_CHANGE_ACCOUNTS_PER_IP + 1):
        borrower = BorrowerFactory()
        event(Action.PHONE_LOST_STARTED, subject=borrower, ip=ip)  # anonymous: the lost-phone path
    assert "phone_change_ip_many_accounts" in codes(risk.assess(user_id=None, ip=ip))
    assert ("phone_change_ip_many_accounts", "ip", ip) in scanned()
    assert risk.assess(user_id=None, ip="203.0.113.51").score == 0


def test_one_account_repeating_phone_change_requests_is_not_many_accounts(settings):
    borrower = BorrowerFactory()
    for _ in range(settings.RISK_PHONE_CHANGE_ACCOUNTS_PER_IP + 3):
        event(Action.PHONE_CHANGE_STARTED, actor=borrower, ip="203.0.113.60")
    assert "phone_change_ip_many_accounts" not in codes(risk.assess(user_id=None, ip="203.0.113.60"))


def test_failed_codes_per_account_and_per_ip(settings):
    borrower = BorrowerFactory()
    for _ in range(settings.RISK_CODE_FAILURES_PER_HOUR + 1):
        event(Action.SMS_CODE_FAILED, subject=borrower, ip="192.0.2.33")
    assert codes(risk.assess(user_id=borrower.pk, ip="192.0.2.33")) == [
        "code_failures_account",
        "code_failures_ip",
    ]
    assert scanned() == [
        ("code_failures_account", "accounts.user", str(borrower.pk)),
        ("code_failures_ip", "ip", "192.0.2.33"),
    ]


def test_failed_codes_older_than_an_hour_do_not_count(settings):
    borrower = BorrowerFactory()
    for _ in range(settings.RISK_CODE_FAILURES_PER_HOUR + 1):
        event(Action.SMS_CODE_FAILED, subject=borrower, ago=timedelta(minutes=61))
    assert risk.assess(user_id=borrower.pk, ip=None).score == 0


def test_new_ip_login_then_phone_change_within_an_hour():
    borrower = BorrowerFactory()
    event(Action.LOGIN_SUCCEEDED, actor=borrower, subject=borrower, ip="10.0.0.1", ago=timedelta(days=3))
    event(Action.LOGIN_SUCCEEDED, actor=borrower, subject=borrower, ip="10.9.9.9", ago=timedelta(minutes=20))
    event(Action.PHONE_CHANGE_STARTED, actor=borrower, ip="10.9.9.9")
    asked = risk.assess(user_id=borrower.pk, ip="10.9.9.9", request_action=Action.PHONE_LOST_STARTED)
    assert "new_ip_then_phone_change" in codes(asked)
    assert risk.assess(user_id=borrower.pk, ip="10.9.9.9").score == 0  # other requests: not this rule
    assert ("new_ip_then_phone_change", "accounts.user", str(borrower.pk)) in scanned()


def test_a_known_ip_or_an_old_login_is_not_the_takeover_pattern():
    borrower = BorrowerFactory()
    event(Action.LOGIN_SUCCEEDED, actor=borrower, subject=borrower, ip="10.0.0.1", ago=timedelta(days=3))
    event(Action.LOGIN_SUCCEEDED, actor=borrower, subject=borrower, ip="10.0.0.1", ago=timedelta(minutes=20))
    event(Action.LOGIN_SUCCEEDED, actor=borrower, subject=borrower, ip="10.9.9.9", ago=timedelta(hours=2))
    event(Action.PHONE_CHANGE_STARTED, actor=borrower, ip="10.0.0.1")
    asked = risk.assess(user_id=borrower.pk, ip="10.0.0.1", request_action=Action.PHONE_CHANGE_STARTED)
    assert "new_ip_then_phone_change" not in codes(asked)
    assert scanned() == []


def test_trying_an_identity_of_another_account():
    borrower = BorrowerFactory()
    event(Action.IDENTITY_REFUSED, actor=borrower, subject=borrower)
    assert codes(risk.assess(user_id=borrower.pk, ip=None)) == ["identity_reuse_attempt"]
    assert scanned() == [("identity_reuse_attempt", "accounts.user", str(borrower.pk))]


def test_the_score_adds_up_and_is_capped():
    assessment = risk.Assessment(tuple(risk.Reason(f"r{n}", "x", 40) for n in range(4)))
    assert assessment.score == 100


def test_a_subject_ref_event_is_keyed_by_its_own_type():
    event(Action.LOGIN_PASSWORD_FAILED, subject=SubjectRef("login.phone", "abc"))
    assert scanned() == []
