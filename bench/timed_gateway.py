"""HttpBankGateway timing its calls, for bench/autodebit.py (``BANK_GATEWAY`` of the bench).

Each collection process adds the seconds it spent inside gateway calls to a Redis counter
(``BENCH_GATEWAY_TIMER``: a Redis URL), so the bench can tell the bank exchange's share of the run.
"""

import functools
import os
import time

import redis

from cards.gateways.http import HttpBankGateway

KEY = "bench:autodebit:gateway-seconds"
_redis = None


def _counter():
    global _redis
    if _redis is None or _redis[0] != os.getpid():  # a forked worker opens its own connection
        _redis = (os.getpid(), redis.Redis.from_url(os.environ["BENCH_GATEWAY_TIMER"]))
    return _redis[1]


def _timed(method):
    @functools.wraps(method)
    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            _counter().incrbyfloat(KEY, time.perf_counter() - started)

    return timed


class TimedHttpBankGateway(HttpBankGateway):
    debit = _timed(HttpBankGateway.debit)
    debit_many = _timed(HttpBankGateway.debit_many)
    query_debit = _timed(HttpBankGateway.query_debit)


def gateway_seconds(url: str) -> float:
    return float(redis.Redis.from_url(url).get(KEY) or 0)


def gateway_seconds_reset(url: str) -> None:
    redis.Redis.from_url(url).delete(KEY)
