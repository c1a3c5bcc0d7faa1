"""Risk rules over the audit trail: scored at request time, scanned on a schedule.

A rule has a code, a readable reason, a score and a severity. ``assess(user=..., ip=...)``
runs every rule for one request and returns the matching reasons with their total score
(services use it to route a request to review). ``scan(since)`` runs every rule over the
events since ``since`` and yields findings, which become RiskAlerts
(audit.services.alerts). Thresholds live in settings (RISK_*).

Most rules count events in a window (CountRule); adding one is a few lines below. The
card rules arrive with the cards app.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import Action
from audit.models import AuditEvent, RiskAlert

USER = "accounts.user"


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    score: int


@dataclass(frozen=True)
class Assessment:
    reasons: tuple[Reason, ...] = ()

    @property
    def score(self) -> int:
        return min(100, sum(reason.score for reason in self.reasons))

    def as_json(self) -> list[dict]:
        return [{"code": r.code, "text": r.text, "score": r.score} for r in self.reasons]


@dataclass(frozen=True)
class Finding:
    rule: "CountRule"
    subject_type: str  # "accounts.user" or "ip"
    subject_id: str
    borrower_id: int | None
    count: int
    last_event_at: datetime


def user_events(user_id: int):
    return Q(actor_id=user_id) | Q(subject_type=USER, subject_id=str(user_id))


def event_users(events) -> set[int]:
    """The borrowers events are about: the subject when it is a user, else the actor."""
    users = set()
    for actor_id, subject_type, subject_id in events.values_list("actor_id", "subject_type", "subject_id"):
        users.add(int(subject_id) if subject_type == USER else actor_id)
    return users - {None}


@dataclass(frozen=True)
class CountRule:
    """More than ``threshold`` (a setting) events of ``actions`` per user or per IP within ``window``."""

    code: str
    reason: str
    score: int
    severity: str
    actions: tuple[str, ...]
    key: str  # "user", "ip" or "platform" (every event counts)
    window: timedelta
    threshold: str
    distinct_users: bool = False  # count accounts, not events (for per-IP rules)

    @property
    def limit(self) -> int:
        return getattr(settings, self.threshold)

    def count(self, *, user_id: int | None = None, ip: str | None = None, now: datetime | None = None) -> int:
        now = now or timezone.now()
        events = AuditEvent.objects.filter(action__in=self.actions, occurred_at__gt=now - self.window)
        if self.key == "user":
            if user_id is None:
                return 0
            events = events.filter(user_events(user_id))
        elif self.key == "ip":
            if not ip:
                return 0
            events = events.filter(ip=ip)
        if self.distinct_users:
            return len(event_users(events))
        return events.count()

    def matches(self, *, user_id, ip, request_action=None, now=None) -> bool:
        return self.count(user_id=user_id, ip=ip, now=now) > self.limit

    def scan(self, since: datetime, now: datetime) -> Iterable[Finding]:
        recent = AuditEvent.objects.filter(
            action__in=self.actions, occurred_at__gte=since, occurred_at__lte=now
        )
        if self.key == "user":
            for user_id in event_users(recent):
                count = self.count(user_id=user_id, now=now)
                if count > self.limit:
                    last = recent.filter(user_events(user_id)).latest("occurred_at").occurred_at
                    yield Finding(self, USER, str(user_id), user_id, count, last)
        elif self.key == "platform":
            if recent.exists():
                count = self.count(now=now)
                if count > self.limit:
                    yield Finding(
                        self, "platform", "all", None, count, recent.latest("occurred_at").occurred_at
                    )
        else:
            for ip in set(recent.exclude(ip__isnull=True).values_list("ip", flat=True)):
                count = self.count(ip=ip, now=now)
                if count > self.limit:
                    yield Finding(
                        self, "ip", ip, None, count, recent.filter(ip=ip).latest("occurred_at").occurred_at
                    )


@dataclass(frozen=True)
class NewIpThenPhoneChange:
    """The takeover pattern: a sign-in from an IP new to the account, then a phone change within an hour."""

    code: str = "new_ip_then_phone_change"
    reason: str = field(default=_("Signed in from a new IP, then asked to change the phone within an hour"))
    score: int = 50
    severity: str = RiskAlert.Severity.HIGH
    window: timedelta = timedelta(hours=1)
    changes: tuple[str, ...] = (Action.PHONE_CHANGE_STARTED, Action.PHONE_LOST_STARTED)

    def _new_ip_login_before(self, user_id: int, at: datetime) -> str | None:
        logins = AuditEvent.objects.filter(
            Q(subject_type=USER, subject_id=str(user_id)),
            action=Action.LOGIN_SUCCEEDED,
            occurred_at__gt=at - self.window,
            occurred_at__lte=at,
        ).exclude(ip__isnull=True)
        for login in logins.order_by("-id").only("id", "ip", "occurred_at"):
            seen_before = AuditEvent.objects.filter(
                user_events(user_id), ip=login.ip, id__lt=login.id
            ).exists()
            if not seen_before:
                return login.ip
        return None

    def matches(self, *, user_id, ip, request_action=None, now=None) -> bool:
        """At request time it applies to phone change requests only."""
        if request_action not in self.changes or user_id is None:
            return False
        return self._new_ip_login_before(user_id, now or timezone.now()) is not None

    def scan(self, since: datetime, now: datetime) -> Iterable[Finding]:
        changes = AuditEvent.objects.filter(
            action__in=self.changes, occurred_at__gte=since, occurred_at__lte=now
        )
        found = set()
        for actor_id, subject_type, subject_id, at in changes.values_list(
            "actor_id", "subject_type", "subject_id", "occurred_at"
        ):
            user_id = int(subject_id) if subject_type == USER else actor_id
            if user_id and user_id not in found and self._new_ip_login_before(user_id, at):
                found.add(user_id)
                yield Finding(self, USER, str(user_id), user_id, 1, at)


# Raised at request time too (accounts.services.identity), so it is a name of its own.
IDENTITY_MISMATCHES = CountRule(
    code="identity_mismatches",
    reason=_("Identity checks did not match the official records several times in a day"),
    score=50,
    severity=RiskAlert.Severity.HIGH,
    actions=(Action.IDENTITY_MISMATCH,),
    key="user",
    window=timedelta(days=1),
    threshold="RISK_IDENTITY_MISMATCHES_DAY",
)

RULES = [
    CountRule(
        code="phone_changes_frequent",
        reason=_("Changed the phone number often in the last 30 days"),
        score=40,
        severity=RiskAlert.Severity.LOW,
        actions=(Action.PHONE_CHANGED,),
        key="user",
        window=timedelta(days=30),
        threshold="RISK_PHONE_CHANGES_30D",
    ),
    CountRule(
        code="phone_change_ip_many_accounts",
        reason=_("Phone changes for many accounts from one IP"),
        score=50,
        severity=RiskAlert.Severity.HIGH,
        actions=(Action.PHONE_CHANGE_STARTED, Action.PHONE_LOST_STARTED),
        key="ip",
        window=timedelta(hours=24),
        threshold="RISK_PHONE_CHANGE_ACCOUNTS_PER_IP",
        distinct_users=True,
    ),
    CountRule(
        code="code_failures_account",
        reason=_("Many wrong SMS codes for the account in an hour"),
        score=30,
        severity=RiskAlert.Severity.LOW,
        actions=(Action.SMS_CODE_FAILED,),
        key="user",
        window=timedelta(hours=1),
        threshold="RISK_CODE_FAILURES_PER_HOUR",
    ),
    CountRule(
        code="code_failures_ip",
        reason=_("Many wrong SMS codes from one IP in an hour"),
        score=30,
        severity=RiskAlert.Severity.LOW,
        actions=(Action.SMS_CODE_FAILED,),
        key="ip",
        window=timedelta(hours=1),
        threshold="RISK_CODE_FAILURES_PER_HOUR",
    ),
    NewIpThenPhoneChange(),
    IDENTITY_MISMATCHES,
    CountRule(
        code="identity_reuse_attempt",
        reason=_("Tried an ID number that belongs to another account"),
        score=60,
        severity=RiskAlert.Severity.HIGH,
        actions=(Action.IDENTITY_REFUSED,),
        key="user",
        window=timedelta(days=30),
        threshold="RISK_IDENTITY_REUSE_ATTEMPTS",
    ),
]


def register_rule(rule) -> None:
    """Apps add rules (cards adds its own in AppConfig.ready()). A rule has ``code``, ``reason``,
    ``score``, ``severity``, ``matches(user_id=, ip=, request_action=, now=)`` and ``scan(since, now)``."""
    if all(existing.code != rule.code for existing in RULES):
        RULES.append(rule)


# Reasons that come from the apps rather than from a rule (e.g. "the old phone is lost").
_extra_reasons: dict[str, str] = {}


def register_reason(code: str, text) -> None:
    _extra_reasons[code] = text


def describe(code: str, fallback: str) -> str:
    """A reason's text in the reader's language (stored texts are in the requester's)."""
    for rule in RULES:
        if rule.code == code:
            return str(rule.reason)
    return str(_extra_reasons.get(code, fallback))


def assess(
    *, user_id: int | None, ip: str | None, request_action: str | None = None, now: datetime | None = None
) -> Assessment:
    """Every rule, for one request (``request_action`` names what is asked): matching reasons, total score."""
    matched = [
        rule for rule in RULES if rule.matches(user_id=user_id, ip=ip, request_action=request_action, now=now)
    ]
    return Assessment(tuple(Reason(rule.code, str(rule.reason), rule.score) for rule in matched))


def scan(since: datetime, now: datetime | None = None) -> Iterable[Finding]:
    now = now or timezone.now()
    for rule in RULES:
        yield from rule.scan(since, now)
