"""The verified sign-in in one query.

Django's AuthenticationMiddleware reads the user row and django-otp's OTPMiddleware then reads
the device that verified the session: two round trips before any page starts. For the usual
case, a borrower verified by their login SMS code, both rows come in one query here (the
device with its user). Every check stays the same: the session's user and backend, the user
allowed to sign in (``is_active``), the session auth hash (password and ``session_epoch``, so
freezes, password and phone changes, closure and device-token revocation still end the session
on the next request), and the device belonging to the user and confirmed. Where sessions are
read from Redis, the two rows are kept there between requests (accounts/signin_cache.py, which
says what ends an entry) and the checks are made on them as they were.

Anything else (no device, a staff device, a hash that does not match) takes
Django's and django-otp's own way, which also does their clean-up (flushing the session).
"""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware

from accounts.models import SmsCode
from accounts.signin_cache import Lookup
from lending.prepared import Prepared

# Every signed-in request reads this: its SQL is compiled once (lending/prepared.py).
_device_with_user = Prepared(
    lambda device_id, user_id: SmsCode.objects.select_related("user").filter(pk=device_id, user_id=user_id),
    int,
    int,
)


def login_device_with_user(request) -> SmsCode | None:
    """The session's SMS device with its user loaded (one query) when every check of
    ``django.contrib.auth.get_user`` passes for that user; None for any other case."""
    session = request.session
    try:
        user_id = int(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
        label, _, device_id = session[DEVICE_ID_SESSION_KEY].rpartition("/")
        device_id = int(device_id)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    if label != SmsCode._meta.label_lower or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    backend = load_backend(backend_path)
    if type(backend) is not ModelBackend:  # the only backend whose get_user this repeats
        return None
    cached = Lookup(session, user_id, device_id)
    device = cached.found()
    if device is None:
        device = next(iter(_device_with_user(device_id, user_id)), None)
        if device is not None:
            cached.keep(device)
    if device is None or not backend.user_can_authenticate(device.user):
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, device.user.get_session_auth_hash()):
        return None  # Django's way: fallback secrets, or the session flushed
    return device


class VerifiedSignInMiddleware(OTPMiddleware):
    """OTPMiddleware whose usual case reads the user and the device in one query."""

    def _verify_user_sync(self, request, user):
        device = login_device_with_user(request)
        if device is None:
            return super()._verify_user_sync(request, user)
        user = device.user
        request._cached_user = user  # what AuthenticationMiddleware's request.user gives too
        self._init_user_fields(user)
        user.otp_device = self._finalize_device(request, user, device)
        request.user = user  # read from here on without the lazy object's proxy
        return user
