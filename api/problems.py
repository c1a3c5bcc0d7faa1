"""Errors as RFC 9457 problem details: ``type``, ``title``, ``status``, ``detail``, and ``code``.

``code`` is stable and the same the pages' refusal carries (the services' DomainError code);
``detail`` is the services' own message, translated for the request's Accept-Language. A
refusal with a time to wait (a code asked too soon, too many bindings) answers 429 with
Retry-After.
"""

import math
from http import HTTPStatus

from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError

from accounts.services import AccountFrozen
from lending.errors import DomainError

CONTENT_TYPE = "application/problem+json"


class ApiProblem(Exception):
    """A refusal of the API layer itself (no token, no Idempotency-Key, password not re-typed)."""

    def __init__(self, status: int, code: str, detail: str, *, headers: dict | None = None, errors=None):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = headers or {}
        self.errors = errors


def problem(status: int, code: str, detail: str, *, headers=None, errors=None) -> JsonResponse:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = errors
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def retry_after(moment) -> str:
    return str(max(1, math.ceil((moment - timezone.now()).total_seconds())))


def domain_status(exc: DomainError) -> int:
    if getattr(exc, "retry_at", None):
        return 429
    if isinstance(exc, AccountFrozen):
        return 403
    return 422


def form_problem(form, names: dict) -> ApiProblem:
    """A form's errors (the same forms the pages use) as one 422 problem, field by field
    (``__all__``: the form's own), under the API's names for the fields."""
    errors = {
        names.get(field, field): [str(message) for message in messages]
        for field, messages in form.errors.items()
    }
    first = next(iter(errors.values()))[0]
    return ApiProblem(422, "invalid", first, errors=errors)


def install(api) -> None:
    """Answer every error of ``api`` as a problem."""

    @api.exception_handler(ApiProblem)
    def _api_problem(request, exc: ApiProblem):
        return problem(exc.status, exc.code, exc.detail, headers=exc.headers, errors=exc.errors)

    @api.exception_handler(DomainError)
    def _refused(request, exc: DomainError):
        status = domain_status(exc)
        headers = {"Retry-After": retry_after(exc.retry_at)} if status == 429 else None
        return problem(status, exc.code, exc.message, headers=headers)

    @api.exception_handler(ValidationError)
    def _invalid(request, exc: ValidationError):
        errors = {}
        for error in exc.errors:
            where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "body"
            errors.setdefault(where, []).append(error.get("msg", ""))
        return problem(422, "invalid", _("Some fields are missing or not valid."), errors=errors)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        response = problem(401, "not_authenticated", _("Sign in on this device first."))
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return problem(404, "not_found", _("Not found."))

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        return problem(exc.status_code, "http_error", str(exc))


class ApiAnswersMiddleware:
    """Under /api/: an error that Django or the router answered in HTML (no such URL, a method
    not allowed, a server error) is answered as a problem too, and no answer is kept by a cache
    (``no-store``: sign-in answers carry secrets before any user is signed in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and "json" not in response.get("Content-Type", "")
        ):
            status = response.status_code
            codes = {404: "not_found", 405: "method_not_allowed"}
            converted = problem(status, codes.get(status, "error"), HTTPStatus(status).phrase)
            for name in ("Allow", "Retry-After"):
                if response.has_header(name):
                    converted[name] = response[name]
            response = converted
        if request.path.startswith("/api/"):
            patch_cache_control(response, private=True, no_store=True)
        return response
