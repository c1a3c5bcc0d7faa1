"""The app API, ``/api/v1/`` (issue 21): every borrower flow as JSON over the same services.

The OpenAPI document (``/api/v1/openapi.json``) and its docs page (``/api/v1/docs``, Swagger UI
from the files django-ninja ships, no CDN) exist only while API_DOCS_ENABLED (DEBUG by default).
"""

from django.conf import settings
from django.http import Http404
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from api import problems
from api.auth import DeviceTokenAuth
from api.routes import account, auth, cards, loans, phone, phone_lost, privacy, repay, support

IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Unique per request; a retry with the same key gets the first answer",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def docs_only_when_enabled(view):
    def wrapped(request, *args, **kwargs):
        if not settings.API_DOCS_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


class Api(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Every POST declares the Idempotency-Key header it needs (api.idempotency), and errors
        are documented as what they are, application/problem+json."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            post = operations.get("post")
            if post is not None:
                post.setdefault("parameters", []).insert(0, dict(IDEMPOTENCY_HEADER))
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[problems.CONTENT_TYPE] = content.pop("application/json")
        return schema


api = Api(
    title="Lending app API",
    version="1",
    description=(
        "Errors are RFC 9457 problem details with a stable `code`; `Accept-Language: zh-Hans` or `en` "
        "chooses the language of `detail`. Every POST needs an `Idempotency-Key` header."
    ),
    urls_namespace="api",
    auth=DeviceTokenAuth(),
    docs=Swagger(),
    docs_decorator=docs_only_when_enabled,
)
problems.install(api)
api.add_router("/auth", auth.router)
api.add_router("/", account.router)
api.add_router("/cards", cards.router)
api.add_router("/loans", loans.router)
api.add_router("/loans", repay.router)
api.add_router("/phone-change", phone.router)
api.add_router("/phone-lost", phone_lost.router)
api.add_router("/help-requests", support.router)
api.add_router("/privacy", privacy.router)
