"""``Idempotency-Key`` on every POST of the API: a retried request gets the first answer and
never acts twice (as Stripe does); the same key with another request is refused.

A middleware rather than a decorator, so the stored answer is the one the client got, problem
details included. Keys are per borrower (the bearer token's) or, before sign-in, shared by all
anonymous callers: there the request's own digest (body included) must match as well, so a key
guessed by someone else answers only to the same request. Answers that carry a secret (a device
token, a sign-in ticket) are stored without it, and a retry of them is refused instead of
replayed: secrets are shown once. An answer of 500 or more is not kept, so the request may be
tried again with the same key.
"""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import DeviceToken, IdempotentRequest
from api.problems import problem
from api.services import digest
from lending.crypto import decrypt, encrypt

PREFIX = "/api/v1/"
HEADER = "Idempotency-Key"
SECRET_FIELDS = ("token", "ticket")
KEPT_HEADERS = ("Content-Type", "Retry-After", "WWW-Authenticate")


def _scope(request) -> str:
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        user_id = (
            DeviceToken.objects.filter(token_hash=digest(secret.strip()))
            .values_list("user_id", flat=True)
            .first()
        )
        if user_id:
            return f"user:{user_id}"
    return "anonymous"


def _request_digest(request) -> str:
    parts = (request.method, request.path, request.META.get("QUERY_STRING", ""))
    hasher = hashlib.sha256("\n".join(parts).encode())
    hasher.update(b"\n" + request.body)
    return hasher.hexdigest()


def _without_secrets(content: bytes) -> tuple[bytes, bool]:
    try:
        body = json.loads(content)
    except ValueError:
        return content, False
    if not isinstance(body, dict) or not any(field in body for field in SECRET_FIELDS):
        return content, False
    return json.dumps({k: v for k, v in body.items() if k not in SECRET_FIELDS}).encode(), True


def _replay(stored: IdempotentRequest) -> HttpResponse:
    if stored.headers.get("secret"):
        return problem(
            409,
            "idempotency_secret_shown_once",
            _(
                "This request was already carried out and its answer held a secret, which is shown once. "
                "Start again with a new Idempotency-Key."
            ),
        )
    response = HttpResponse(decrypt(stored.body_encrypted).encode(), status=stored.status)
    for name, value in stored.headers.items():
        if name in KEPT_HEADERS:
            response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or not request.path.startswith(PREFIX):
            return self.get_response(request)
        key = request.headers.get(HEADER, "")
        if not key or len(key) > 255:
            return problem(
                400,
                "idempotency_key_required",
                _("Send an Idempotency-Key header (up to 255 characters) with every POST."),
            )
        scope, key_hash, request_hash = _scope(request), digest(key), _request_digest(request)
        IdempotentRequest.objects.filter(
            scope=scope,
            key_hash=key_hash,
            created_at__lt=timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS),
        ).delete()
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    scope=scope, key_hash=key_hash, request_hash=request_hash
                )
        except IntegrityError:
            return self._seen(scope, key_hash, request_hash)
        try:
            response = self.get_response(request)
        except BaseException:
            row.delete()
            raise
        self._keep(row, response)
        return response

    def _seen(self, scope, key_hash, request_hash) -> HttpResponse:
        stored = IdempotentRequest.objects.filter(scope=scope, key_hash=key_hash).first()
        if stored is None or stored.request_hash != request_hash:
            return problem(
                422,
                "idempotency_key_reused",
                _("This Idempotency-Key was used for another request. Use a new key for a new request."),
            )
        if stored.status == 0:
            return problem(
                409,
                "idempotency_in_progress",
                _("A request with this Idempotency-Key is still running. Try again in a moment."),
                headers={"Retry-After": "1"},
            )
        return _replay(stored)

    def _keep(self, row: IdempotentRequest, response) -> None:
        if response.status_code >= 500 or getattr(response, "streaming", False):
            row.delete()
            return
        content, secret = _without_secrets(response.content)
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        if secret:
            headers["secret"] = True
        row.status = response.status_code
        row.body_encrypted = encrypt(content.decode("utf-8", "replace"))
        row.headers = headers
        row.save(update_fields=["status", "body_encrypted", "headers"])
