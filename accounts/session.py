"""What a half-finished flow keeps in the session between its pages.

Phone numbers are kept encrypted: sessions live in the database, which never holds a
full number outside the user's own phone field.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from lending.crypto import decrypt, encrypt

REAUTH_KEY = "reauth_at"


def remember(request, flow: str, **values) -> None:
    stored = {key: encrypt(str(value)) if key == "phone" else value for key, value in values.items()}
    request.session[flow] = {**stored, "at": timezone.now().isoformat()}


def recall(request, flow: str, *, max_minutes: int) -> dict | None:
    """The values of a flow started within ``max_minutes``, or None."""
    stored = request.session.get(flow)
    if not stored:
        return None
    started = parse_datetime(stored.get("at", ""))
    if started is None or timezone.now() - started > timedelta(minutes=max_minutes):
        request.session.pop(flow, None)
        return None
    return {key: decrypt(value) if key == "phone" else value for key, value in stored.items()}


def forget(request, flow: str) -> None:
    request.session.pop(flow, None)


def mark_reauthenticated(request) -> None:
    request.session[REAUTH_KEY] = timezone.now().isoformat()


def reauthenticated_within(request, minutes: int) -> bool:
    at = parse_datetime(request.session.get(REAUTH_KEY, ""))
    return at is not None and timezone.now() - at <= timedelta(minutes=minutes)
