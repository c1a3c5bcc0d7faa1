import ipaddress
import re

from django.conf import settings

from audit.context import RequestContext, bound_request, new_request_id

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the address NUM_PROXIES hops from the right of X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.NUM_PROXIES
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if not hops or len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class RequestContextMiddleware:
    """Binds request id, client IP and user agent for audit events and log lines.

    The request id comes from ``X-Request-ID`` when it is well formed, otherwise a new one;
    it is echoed in the response.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID_RE.match(incoming) else new_request_id()
        context = RequestContext(
            request_id=request_id,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
        )
        request.request_id = request_id
        with bound_request(context):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
