"""The card rules, added to audit.risk in CardsConfig.ready().

Each routes an unbind to review at request time and raises an alert from the scheduled scan.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import risk
from audit.actions import Action
from audit.models import AuditEvent, RiskAlert

UNBIND_ACTIONS = (Action.CARD_UNBOUND, Action.CARD_UNBIND_REQUESTED)
RECENT_PHONE_CHANGE = _("The phone number changed in the last 24 hours")


def _unbinding_borrowers(rule, since, now, holds):
    """Findings for borrowers who unbound (or asked to) since ``since`` and for whom ``holds(user_id)``."""
    unbinds = AuditEvent.objects.filter(
        action__in=UNBIND_ACTIONS, occurred_at__gte=since, occurred_at__lte=now
    )
    for user_id in risk.event_users(unbinds):
        if holds(user_id):
            last = unbinds.filter(risk.user_events(user_id)).latest("occurred_at").occurred_at
            yield risk.Finding(rule, risk.USER, str(user_id), user_id, 1, last)


def _user_of(actor_id, subject_type, subject_id):
    return int(subject_id) if subject_type == risk.USER else actor_id


@dataclass(frozen=True)
class CardOnSeveralAccounts:
    """One card fingerprint tried (bound or refused) on more accounts than RISK_CARD_ACCOUNTS in 30 days."""

    code: str = "card_on_several_accounts"
    reason: str = field(default=_("The same card was tried on several accounts"))
    score: int = 60
    severity: str = RiskAlert.Severity.HIGH
    window: timedelta = timedelta(days=30)
    actions: tuple = (Action.CARD_BIND_STARTED, Action.CARD_BIND_REFUSED)

    def accounts(self, fp: str, now: datetime) -> int:
        events = AuditEvent.objects.filter(
            action__in=self.actions, occurred_at__gt=now - self.window, data__fp=fp
        )
        return len(
            {_user_of(*row) for row in events.values_list("actor_id", "subject_type", "subject_id")} - {None}
        )

    def matches(self, *, user_id, ip, request_action=None, now=None) -> bool:
        return False  # a card bound elsewhere is refused outright; this rule only raises alerts

    def scan(self, since, now):
        recent = AuditEvent.objects.filter(
            action__in=self.actions, occurred_at__gte=since, occurred_at__lte=now
        )
        for fp in {data.get("fp") for data in recent.values_list("data", flat=True)} - {None}:
            count = self.accounts(fp, now)
            if count > settings.RISK_CARD_ACCOUNTS:
                last = recent.filter(data__fp=fp).latest("occurred_at").occurred_at
                yield risk.Finding(self, "card", fp, None, count, last)


@dataclass(frozen=True)
class TakeoverPattern:
    """Phone change, then a new card bound, then an older card unbound, all within 7 days."""

    code: str = "phone_change_bind_unbind"
    reason: str = field(
        default=_("Phone changed, a new card bound, then an older card unbound within 7 days")
    )
    score: int = 70
    severity: str = RiskAlert.Severity.HIGH
    window: timedelta = timedelta(days=7)

    def _pattern(self, user_id: int, now: datetime) -> bool:
        mine = AuditEvent.objects.filter(risk.user_events(user_id), occurred_at__gt=now - self.window)
        changed = (
            mine.filter(action=Action.PHONE_CHANGED)
            .order_by("occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        if changed is None:
            return False
        return mine.filter(action=Action.CARD_BOUND, occurred_at__gt=changed).exists()

    def matches(self, *, user_id, ip, request_action=None, now=None) -> bool:
        return (
            request_action == Action.CARD_UNBIND_REQUESTED
            and user_id is not None
            and self._pattern(user_id, now or timezone.now())
        )

    def scan(self, since, now):
        return _unbinding_borrowers(self, since, now, lambda user_id: self._pattern(user_id, now))


@dataclass(frozen=True)
class OutstandingBalance:
    """Unbinding while owing more than RISK_OUTSTANDING_BALANCE."""

    code: str = "outstanding_balance_high"
    reason: str = field(default=_("Unbinding a card while owing a large amount"))
    score: int = 40
    severity: str = RiskAlert.Severity.LOW
    window: timedelta = timedelta(hours=1)

    @staticmethod
    def _owes_a_lot(user_id: int) -> bool:
        from accounts.models import User
        from lending.selectors import outstanding_balance

        return outstanding_balance(User(pk=user_id)) > settings.RISK_OUTSTANDING_BALANCE

    def matches(self, *, user_id, ip, request_action=None, now=None) -> bool:
        return (
            request_action == Action.CARD_UNBIND_REQUESTED
            and user_id is not None
            and self._owes_a_lot(user_id)
        )

    def scan(self, since, now):
        return _unbinding_borrowers(self, since, now, self._owes_a_lot)


@dataclass(frozen=True)
class HighRiskBorrower:
    """The borrower has a high-severity alert still being handled (their risk level is high)."""

    code: str = "borrower_high_risk"
    reason: str = field(default=_("The borrower's risk level is high (an open high-severity alert)"))
    score: int = 70
    severity: str = RiskAlert.Severity.HIGH
    window: timedelta = timedelta(days=1)

    def matches(self, *, user_id, ip, request_action=None, now=None) -> bool:
        if request_action != Action.CARD_UNBIND_REQUESTED or user_id is None:
            return False
        return RiskAlert.objects.filter(
            borrower_id=user_id,
            severity=RiskAlert.Severity.HIGH,
            status__in=(RiskAlert.Status.OPEN, RiskAlert.Status.ACKNOWLEDGED),
        ).exists()

    def scan(self, since, now):
        return ()  # it is made of alerts already


@dataclass(frozen=True)
class FourElementFailures:
    """At least RISK_FOUR_ELEMENT_FAILURES_DAY bindings of one borrower refused by the bank's
    four-element check in 24 h: someone trying cards or identities that are not theirs."""

    code: str = "bind_four_element_failures"
    reason: str = field(default=_("The bank refused the card's four elements several times in a day"))
    score: int = 50
    severity: str = RiskAlert.Severity.HIGH
    window: timedelta = timedelta(days=1)

    def failures(self, now: datetime):
        from cards.models import CardBindRequest

        return CardBindRequest.objects.filter(
            failure_code="four_elements", created_at__gt=now - self.window, created_at__lte=now
        )

    def finding(self, user_id: int, now: datetime) -> risk.Finding | None:
        mine = self.failures(now).filter(user_id=user_id)
        count = mine.count()
        if count < settings.RISK_FOUR_ELEMENT_FAILURES_DAY:
            return None
        last = mine.latest("created_at").created_at
        return risk.Finding(self, risk.USER, str(user_id), user_id, count, last)

    def matches(self, *, user_id, ip, request_action=None, now=None) -> bool:
        return False  # the binding is refused by the bank already; this rule only raises alerts

    def scan(self, since, now):
        users = self.failures(now).filter(created_at__gte=since).values_list("user_id", flat=True)
        for user_id in sorted(set(users)):
            finding = self.finding(user_id, now)
            if finding is not None:
                yield finding


@dataclass(frozen=True)
class ReconciliationRule:
    """Raised by the daily reconciliation (cards/services/reconciliation.py), one per settlement
    date, never by the scan or a request."""

    code: str
    reason: str
    score: int = 50
    severity: str = RiskAlert.Severity.HIGH
    window: timedelta = timedelta(days=1)

    def matches(self, *, user_id, ip, request_action=None, now=None) -> bool:
        return False

    def scan(self, since, now):
        return ()


RECONCILIATION_RULES = {
    rule.code: rule
    for rule in (
        ReconciliationRule(
            "reconciliation_breaks", _("The bank's statement and our records differ (reconciliation breaks)")
        ),
        ReconciliationRule(
            "reconciliation_failed", _("The bank's statement was refused or could not be fetched")
        ),
    )
}


def _unbind_velocity(code, reason, key, window, threshold):
    return risk.CountRule(
        code=code,
        reason=reason,
        score=40,
        severity=RiskAlert.Severity.LOW,
        actions=UNBIND_ACTIONS,
        key=key,
        window=window,
        threshold=threshold,
    )


CARD_RULES = (
    _unbind_velocity(
        "unbind_velocity_user",
        _("Many card unbinds by the borrower in a day"),
        "user",
        timedelta(days=1),
        "RISK_UNBINDS_PER_USER_DAY",
    ),
    _unbind_velocity(
        "unbind_velocity_ip",
        _("Many card unbinds from one IP in an hour"),
        "ip",
        timedelta(hours=1),
        "RISK_UNBINDS_PER_IP_HOUR",
    ),
    _unbind_velocity(
        "unbind_velocity_platform",
        _("Many card unbinds across the platform in an hour"),
        "platform",
        timedelta(hours=1),
        "RISK_UNBINDS_PLATFORM_HOUR",
    ),
    CardOnSeveralAccounts(),
    TakeoverPattern(),
    OutstandingBalance(),
    HighRiskBorrower(),
    FourElementFailures(),
    *RECONCILIATION_RULES.values(),
)


def register() -> None:
    for rule in CARD_RULES:
        risk.register_rule(rule)
    risk.register_reason("recent_phone_change", RECENT_PHONE_CHANGE)


def card_on_several_accounts_alert(*, fingerprint: str, user) -> None:
    """A card live on another account was tried here: raise the alert now, not at the next scan."""
    from audit.services import risk_alert_raise

    rule = CARD_RULES[3]
    now = timezone.now()
    risk_alert_raise(finding=risk.Finding(rule, "card", fingerprint[:16], user.pk, 2, now), now=now)


def four_element_failures_alert(*, user) -> None:
    """The bank refused another four-element check: raise the alert now if the borrower reached
    the threshold (one alert per borrower while it is being handled, not one per failure)."""
    from audit.services import risk_alert_raise

    now = timezone.now()
    finding = FourElementFailures().finding(user.pk, now)
    if finding is not None:
        risk_alert_raise(finding=finding, now=now)
