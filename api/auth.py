"""``Authorization: Bearer <device token>``: the only way the API knows who calls.

Never a cookie: a session cookie sent along is ignored, and the token is read from the header
alone. Each request checks that the token is live (api.services.token_is_live) and counts it
against API_TOKEN_REQUESTS_PER_MINUTE (429 with Retry-After past it).
"""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security.http import HttpAuthBase

from api.models import DeviceToken
from api.problems import ApiProblem
from api.services import device_token_touch, digest, token_is_live
from lending.prepared import Prepared

# Every API call reads this: its SQL is compiled once (lending/prepared.py).
_token_with_user = Prepared(
    lambda token_hash: DeviceToken.objects.select_related("user").filter(token_hash=token_hash), str
)


def _used_this_minute(key: str) -> int:
    """Count one request under ``key`` (kept 61 s): in one round trip to Redis, else add and incr."""
    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is not None:  # django's RedisCache: INCR and EXPIRE NX in one pipeline
        redis_key = cache.make_and_validate_key(key)
        pipe = client(redis_key, write=True).pipeline(transaction=False)
        pipe.incr(redis_key)
        pipe.expire(redis_key, 61, nx=True)
        return pipe.execute()[0]
    if cache.add(key, 1, 61):
        return 1
    return cache.incr(key)


def _count(token: DeviceToken, now) -> None:
    """A fixed one-minute window per token in the shared cache; a cache that fails counts nothing."""
    window = int(now.timestamp() // 60)
    try:
        used = _used_this_minute(f"api-rate:{token.pk}:{window}")
    except Exception:  # noqa: BLE001 - a limit the cache cannot count is not applied
        return
    if used > settings.API_TOKEN_REQUESTS_PER_MINUTE:
        wait = 60 - int(now.timestamp()) % 60
        raise ApiProblem(
            429,
            "too_many_requests",
            _("Too many requests from this device. Try again in a minute."),
            headers={"Retry-After": str(wait)},
        )


class DeviceTokenAuth(HttpAuthBase):
    openapi_scheme = "bearer"

    def __call__(self, request):
        scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        return self.authenticate(request, secret.strip())

    def authenticate(self, request, secret: str):
        token = next(iter(_token_with_user(digest(secret))), None)
        now = timezone.now()
        if token is None or not token.user.is_active or not token_is_live(token, token.user, now):
            return None
        _count(token, now)
        device_token_touch(token=token, now=now)
        request.user = token.user  # history rows and the private-page headers see the borrower
        request.device_token = token
        return token


def require_recent_password(request) -> None:
    """Sensitive steps: the password typed again on this device within REAUTH_MINUTES."""
    at = request.auth.reauth_at
    if at is None or timezone.now() - at > timedelta(minutes=settings.REAUTH_MINUTES):
        raise ApiProblem(
            403,
            "reauth_required",
            _("Type your password again to continue (POST /api/v1/auth/reauth)."),
        )
