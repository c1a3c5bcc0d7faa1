"""lending.cache: Django's Redis cache, with one client per pool for the process."""

import pytest
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from lending.cache import RedisCache

pytestmark = pytest.mark.redis


def test_production_settings_pick_it_for_a_redis_cache_url(monkeypatch):
    import importlib

    import lending.settings as production

    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/1")
    try:
        reloaded = importlib.reload(production)
        assert reloaded.CACHES["default"]["BACKEND"] == "lending.cache.RedisCache"
        assert reloaded.SHARED_CACHE and reloaded.SESSION_ENGINE == "lending.sessions"
    finally:
        monkeypatch.delenv("CACHE_URL")
        importlib.reload(production)


def test_it_keeps_one_client_and_answers_as_djangos(redis_url):
    ours, django = (cls(redis_url, {}) for cls in (RedisCache, DjangoRedisCache))
    assert ours._cache.get_client() is ours._cache.get_client(write=True)
    ours.set("k", {"v": 1}, 60)
    assert django.get_many(["k", "missing"]) == ours.get_many(["k", "missing"]) == {"k": {"v": 1}}
    assert ours.incr("n", 1) if ours.add("n", 1, 60) else False
    assert django.get("n") == 2
    ours.delete("k")
    assert django.get("k") is None


def test_keys_longer_than_memcached_allows_work_without_a_warning(redis_url, recwarn):
    long_key = "session:" + "x" * 300  # memcached stops at 250 characters; Redis does not
    cache = RedisCache(redis_url, {})
    cache.set(long_key, 1, 60)
    assert cache.get(long_key) == 1 and not recwarn.list
    cache.delete(long_key)
