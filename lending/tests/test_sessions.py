"""The session engine of production: the database when the cache does not answer, the cache left
alone for a while after it failed, and no copy from before an outage trusted after it."""

import json
import logging

import pytest
import redis
from asgiref.sync import async_to_sync
from django.contrib.sessions.models import Session
from django.core.cache.backends.locmem import LocMemCache

from lending import sessions
from lending.tests.test_settings import production_env, python

pytestmark = pytest.mark.django_db


class Flaky:
    """A cache that stops answering while ``down``; counts the calls that reach it."""

    def __init__(self):
        self.cache = LocMemCache("sessions-test", {})
        self.cache.clear()
        self.down = False
        self.calls = 0

    def __getattr__(self, name):
        method = getattr(self.cache, name)

        def call(*args, **kwargs):
            self.calls += 1
            if self.down:
                raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")
            return method(*args, **kwargs)

        return call


@pytest.fixture(autouse=True)
def breaker(monkeypatch, settings):
    """A fresh breaker (one per process in production); by default it tries again at once."""
    settings.CACHE_RETRY_SECONDS = 0
    fresh = sessions.Breaker()
    monkeypatch.setattr(sessions, "breaker", fresh)
    return fresh


@pytest.fixture
def cache():
    return Flaky()


@pytest.fixture
def store(cache):
    """A session store for one request: ``store(key)``."""

    def open_(session_key=None):
        opened = sessions.SessionStore(session_key)
        opened._cache = cache
        return opened

    return open_


def signed_in(store) -> str:
    session = store()
    session["_auth_user_id"] = "7"
    session.save()
    assert store(session.session_key).load() == {"_auth_user_id": "7"}  # copied to the cache
    return session.session_key


def copy_in_cache(cache, key):
    return cache.cache.get(sessions.SessionStore.cache_key_prefix + key)


def test_a_session_is_read_from_the_cache_while_it_answers(store, cache, django_assert_num_queries):
    key = signed_in(store)
    with django_assert_num_queries(0):
        assert store(key).load() == {"_auth_user_id": "7"}


def test_sessions_are_read_and_written_in_the_database_while_the_cache_does_not_answer(store, cache):
    key = signed_in(store)
    cache.down = True

    session = store(key)
    assert session["_auth_user_id"] == "7"
    session["flow"] = "phone change"
    session.save()
    assert store(key).load() == {"_auth_user_id": "7", "flow": "phone change"}

    new = store()
    new["visited"] = True
    new.save()  # a new session
    assert store(new.session_key).load() == {"visited": True}
    assert Session.objects.count() == 2


def test_while_the_breaker_is_open_the_cache_is_not_called(store, cache, settings):
    key = signed_in(store)
    settings.CACHE_RETRY_SECONDS = 600
    cache.down = True
    calls = cache.calls

    assert store(key).load() == {"_auth_user_id": "7"}
    assert cache.calls == calls + 1  # the call that failed opened the breaker
    for n in range(5):
        session = store(key)
        session["seen"] = n
        session.save()
        store(key).flush()
    assert cache.calls == calls + 1


def test_the_cache_is_tried_again_after_the_wait_and_used_when_it_answers(
    store, cache, django_assert_num_queries
):
    key = signed_in(store)
    cache.down = True
    store(key).load()  # fails: the breaker opens (CACHE_RETRY_SECONDS is 0 here)
    cache.down = False
    assert store(key).load() == {"_auth_user_id": "7"}  # a new epoch: read from the database, copied
    with django_assert_num_queries(0):
        assert store(key).load() == {"_auth_user_id": "7"}


def test_a_session_ended_while_the_cache_is_down_does_not_come_back_with_it(store, cache):
    """The tricky case: the cache keeps a copy of a session that ended meanwhile."""
    ended, changed = signed_in(store), signed_in(store)
    cache.down = True
    store(ended).flush()  # sign-out
    session = store(changed)
    session["reauth_at"] = "now"
    session.save()
    cache.down = False

    assert copy_in_cache(cache, ended) and "reauth_at" not in copy_in_cache(cache, changed)[1]
    assert store(ended).load() == {}
    assert store(changed).load() == {"_auth_user_id": "7", "reauth_at": "now"}


def test_a_cache_that_lost_its_epoch_trusts_no_copy_from_before(store, cache):
    key = signed_in(store)
    Session.objects.filter(session_key=key).delete()  # ended where the cache did not see it
    cache.cache.delete(sessions.EPOCH_KEY)
    assert store(key).load() == {}


def test_one_warning_per_outage_without_the_session_key(store, cache, caplog, settings):
    key = signed_in(store)
    caplog.set_level(logging.WARNING, logger="lending.sessions")
    for _outage in range(2):
        cache.down = True
        for _request in range(3):
            store(key).load()
        cache.down = False
        store(key).load()
    warnings = [r.getMessage() for r in caplog.records if "does not answer" in r.getMessage()]
    assert len(warnings) == 2 and "ConnectionError" in warnings[0]
    assert not [r for r in caplog.records if key in r.getMessage()]


def test_the_async_api_goes_through_the_same_fallback(store, cache):
    cache.down = True
    session = store()
    session["visited"] = True
    async_to_sync(session.asave)()
    assert async_to_sync(store(session.session_key).aload)() == {"visited": True}
    async_to_sync(store(session.session_key).adelete)()
    assert not Session.objects.exists()


def test_production_with_redis_reads_sessions_through_this_engine_with_short_timeouts():
    env = production_env(CACHE_URL="redis://redis.internal:6379/1")
    script = (
        "import json, django; from django.conf import settings as s; django.setup(); "
        "print(json.dumps([s.SESSION_ENGINE, s.CACHES['default']['OPTIONS'], s.CACHE_RETRY_SECONDS]))"
    )
    result = python("-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "lending.sessions",
        {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        5,
    ]
    result = python("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
