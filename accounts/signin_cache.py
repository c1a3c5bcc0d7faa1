"""The verified sign-in kept in the shared cache (Redis) between a borrower's requests.

Every portal request needs the session's user and its OTP device (accounts.middleware). Read
from PostgreSQL, that is a round trip and the database's CPU on every page; kept here, next to
the session, it comes with one more cache read. Only where sessions are read from the shared
cache (lending/sessions.py); a per-process cache could not be told of changes made elsewhere.

An entry is used only while all of these hold, and otherwise the rows are read again:
- it was stored under the cache epoch the session was read with, so no entry from before a cache
  outage is trusted after it (lending/sessions.py);
- its user's token is still the one in the cache. A token is made by the first request that
  finds none (Redis's SET NX: one request's token wins), and dropped after every committed
  change of the user row or of the user's SMS devices (``forget``): freezes, password and
  phone changes, "sign out everywhere" (the session epoch), closure, deactivation, the unread
  count. A request reads the token before it reads the rows and stores its entry under that
  token, so a change committed in between leaves an entry that is never used;
- it is for the session's device.
The checks of ``login_device_with_user`` (active user, session auth hash, the device's owner and
confirmation) are then made on the entry as on the rows.

What this does not cover: a change whose ``forget`` fails because the cache stopped answering at
that moment is seen by the other processes when the entry expires (SIGNIN_CACHE_SECONDS) or
earlier, when this process reaches the cache again and starts a new epoch.

Entries are sealed (lending.crypto): the cache holds no phone number or password hash in clear.
"""

import pickle
import secrets
from contextlib import suppress

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from lending import sessions
from lending.crypto import seal, unseal

TOKEN_SECONDS = 24 * 60 * 60


def _keys(user_id: int) -> tuple[str, str]:
    return f"signin:{user_id}", f"signin:token:{user_id}"


def _cache_of(session):
    """The cache and epoch ``session`` was read with; None where sessions are not read from the
    shared cache, or it did not answer."""
    if not settings.SIGNIN_CACHE_SECONDS or not isinstance(session, sessions.SessionStore):
        return None
    if session._epoch is None:
        return None
    return session._cache, session._epoch


class Lookup:
    """One request's look in the cache for the session's device with its user."""

    def __init__(self, session, user_id: int, device_id: int):
        self.where = _cache_of(session)
        self.user_id, self.device_id = user_id, device_id
        self.token = None

    def found(self):
        """The device with its user from a trusted entry, or None."""
        if self.where is None:
            return None
        cache, epoch = self.where
        entry_key, token_key = _keys(self.user_id)
        try:
            found = sessions.breaker.call(cache, "get_many", [entry_key, token_key])
            self.token = found.get(token_key)
            if self.token is None:  # the first request since a change: a new token, if no other made one
                made = secrets.token_hex(8)
                if sessions.breaker.call(cache, "add", token_key, made, TOKEN_SECONDS):
                    self.token = made
        except sessions.CacheDown:
            self.where = None
            return None
        entry = found.get(entry_key)
        if self.token is None or not entry or entry[:3] != (epoch, self.token, self.device_id):
            return None
        try:
            return pickle.loads(unseal(entry[3]))  # noqa: S301 (sealed: only this platform's keys make one)
        except Exception:  # noqa: BLE001 (a key no longer configured, another release's classes: read the rows)
            return None

    def keep(self, device) -> None:
        """Store ``device`` (with its user, as just read from the database) under the token read
        before it was."""
        if self.where is None or self.token is None:
            return
        cache, epoch = self.where
        entry = (epoch, self.token, self.device_id, seal(pickle.dumps(device)))
        with suppress(sessions.CacheDown):
            sessions.breaker.call(cache, "set", _keys(self.user_id)[0], entry, settings.SIGNIN_CACHE_SECONDS)


def forget(user_id: int | None) -> None:
    """Drop the user's token once the current transaction commits: no entry made before is used."""
    if user_id is None or not settings.SIGNIN_CACHE_SECONDS or sessions.__name__ != settings.SESSION_ENGINE:
        return
    transaction.on_commit(lambda: _drop(user_id), robust=True)


def _drop(user_id: int) -> None:
    with suppress(sessions.CacheDown):  # see the module's note
        sessions.breaker.call(caches[settings.SESSION_CACHE_ALIAS], "delete_many", list(_keys(user_id)))
