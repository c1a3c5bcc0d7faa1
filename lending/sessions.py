"""Sessions read from the shared cache (Redis) that keep working while the cache does not answer.

The engine of production (``SESSION_ENGINE`` when ``CACHE_URL`` is Redis): Django's cached_db,
where the database holds every session and the cache holds a copy read on each request. When a
cache call fails (Redis stopped, unreachable, or hung past the socket timeout in settings), the
session is read from and written to the database alone, and this process leaves the cache alone
for ``CACHE_RETRY_SECONDS`` before it tries again: a circuit breaker, so a dead Redis costs each
process one failed call per period instead of one per request. One warning per outage.

Stale copies. While the cache is left alone, changes to a session and its end (sign-out, the old
key dropped when sign-in rotates it) reach the database only, so the cache can keep a copy that
is no longer true; Redis keeps it through a restart when it persists its data (docker-compose
runs it so), and through a network fault anyway. A sign-out would be undone when Redis is back.
So each copy is stamped with the cache's epoch, a random token stored in the cache itself and
read together with the copy (one MGET), and a copy is trusted only while its stamp is the
current epoch. A process that saw the cache fail starts a new epoch the first time the cache
answers again, before it reads anything from it: every copy made before the outage is then a
miss, read again from the database (and copied again). Freezes and password and phone changes
end sessions through the user's ``session_epoch`` in the session's auth hash, which is checked
on every request against the user row, or against its copy in the cache that every change of
the row ends (accounts/signin_cache.py), so no stale session copy can undo those either.

What this does not cover: the outage is known per process. A process that served no request
during the outage, and so never saw it, trusts the old epoch until a process that saw it gets a
request after the cache is back (and after its own CACHE_RETRY_SECONDS); nor does a process
that could not reach Redis while others could (a partial network fault) tell the others.
"""

import logging
import secrets
import time
from contextlib import suppress

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends import cached_db
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

EPOCH_KEY = "lending.sessions.epoch"
CACHE_ERRORS = (RedisError, OSError)  # OSError: the builtin ConnectionError and TimeoutError


class CacheDown(Exception):
    """The cache was left alone or did not answer: use the database."""


class Breaker:
    """Per process: after a failed cache call, no call until CACHE_RETRY_SECONDS have passed."""

    def __init__(self):
        self.down = False  # a call failed since the cache last answered
        self.retry_at = 0.0

    def call(self, cache, method: str, *args):
        """``cache.<method>(*args)``; raises CacheDown while the cache is left alone or fails."""
        if self.down and time.monotonic() < self.retry_at:
            raise CacheDown
        try:
            if self.down:  # back: copies from before the outage are no longer trusted
                cache.set(EPOCH_KEY, new_epoch(), None)
                self.down = False
                logger.info("The session cache answers again; its copies from before are ignored.")
            return getattr(cache, method)(*args)
        except CACHE_ERRORS as exc:
            if not self.down:
                logger.warning(
                    "The session cache does not answer (%s); sessions are read from the database "
                    "and the cache is tried again every %s s.",
                    type(exc).__name__,
                    settings.CACHE_RETRY_SECONDS,
                )
            self.down = True
            self.retry_at = time.monotonic() + settings.CACHE_RETRY_SECONDS
            raise CacheDown from exc


breaker = Breaker()


def new_epoch() -> str:
    return secrets.token_hex(8)


class SessionStore(cached_db.SessionStore):
    """cached_db whose copies in the cache are stamped with the cache's epoch (see above)."""

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._epoch = None  # the cache's, once read

    def _cache_call(self, method: str, *args):
        return breaker.call(self._cache, method, *args)

    def _use_epoch(self, epoch):
        """Stamp copies with ``epoch``; a cache without one (new, or it lost it) gets a new one,
        so no copy stamped before is trusted."""
        if epoch is None:
            epoch = new_epoch()
            self._cache_call("set", EPOCH_KEY, epoch, None)
        self._epoch = epoch

    def load(self):
        try:
            found = self._cache_call("get_many", [self.cache_key, EPOCH_KEY])
            self._use_epoch(found.get(EPOCH_KEY))
        except CacheDown:
            return super(cached_db.SessionStore, self).load()  # the database's
        copy = found.get(self.cache_key)
        if isinstance(copy, tuple) and copy[0] == self._epoch:
            return copy[1]
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        self._copy_to_cache(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key):
        return super(cached_db.SessionStore, self).exists(session_key)  # the database holds them all

    def save(self, must_create=False):
        super(cached_db.SessionStore, self).save(must_create)  # the database first
        self._copy_to_cache(self._session, self.get_expiry_age())

    def delete(self, session_key=None):
        super(cached_db.SessionStore, self).delete(session_key)
        session_key = session_key or self.session_key
        if session_key:
            with suppress(CacheDown):  # the next epoch hides the copy
                self._cache_call("delete", self.cache_key_prefix + session_key)

    def _copy_to_cache(self, data, timeout):
        with suppress(CacheDown):  # the next epoch hides an older copy
            if self._epoch is None:  # a new session: nothing was read from the cache yet
                self._use_epoch(self._cache_call("get", EPOCH_KEY))
            self._cache_call("set", self.cache_key, (self._epoch, data), timeout)

    # The portal runs under WSGI; the async API goes through the same code.
    async def aload(self):
        return await sync_to_async(self.load)()

    async def aexists(self, session_key):
        return await sync_to_async(self.exists)(session_key)

    async def asave(self, must_create=False):
        await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key=None):
        await sync_to_async(self.delete)(session_key)
