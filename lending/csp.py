"""The Content-Security-Policy middleware, with one allowance for the back office.

django-csp builds the header from the settings on every response, and the report-only header
too; here no view changes its policy and no template asks for a nonce, so the header is one of
two strings, built once per process. A response or request that does use django-csp's
per-view policy or nonce still goes through django-csp.
"""

from dataclasses import replace
from functools import cache

from csp.constants import HEADER, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings

INLINE_STYLES = {"style-src": [SELF, UNSAFE_INLINE]}
INLINE_STYLE_PATHS = ("/admin/", "/api/v1/docs")
# What django-csp's decorators set on a response (the report-only policy's too).
PER_VIEW = (
    "_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
    "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro",
)  # fmt: skip


@cache
def _policy(inline_styles: bool) -> str:
    return build_policy(update=INLINE_STYLES if inline_styles else None)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """Django's admin sets inline styles from its own scripts (collapsible fieldsets, popups),
    and so does Swagger UI on the app API's docs page: there styles may be inline. Scripts stay
    'self' everywhere."""

    def process_response(self, request, response):
        plain = (
            not any(hasattr(response, name) for name in PER_VIEW)
            and getattr(request, "_csp_nonce", None) is None
            and not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            and not settings.DEBUG
        )
        if not plain:
            return super().process_response(request, response)
        if HEADER not in response:
            response[HEADER] = _policy(request.path.startswith(INLINE_STYLE_PATHS))
        return response

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(INLINE_STYLE_PATHS) and parts.update is None:
            parts = replace(parts, update=INLINE_STYLES)
        return parts
