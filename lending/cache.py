"""Django's Redis cache with one client object per connection pool, made once per process.

Django's RedisCacheClient builds a new ``redis.Redis`` on every cache call, and its constructor
fills a table of some 170 reply callbacks each time: about a tenth of a millisecond on every
request that reads its session from Redis. A client holds no connection of its own (the pool
does), so one client per pool behaves the same; the pools, timeouts and options are Django's.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # id of a pool (Django keeps each for the process) -> its client

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def validate_key(self, key):
        """Django checks every key character by character for memcached's limits (length,
        spaces, control characters), which Redis does not have: on every request's session key."""
