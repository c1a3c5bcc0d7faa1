"""The Content-Security-Policy middleware, with one allowance for the back office."""

from dataclasses import replace

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """Django's admin sets inline styles from its own scripts (collapsible fieldsets, popups),
    and so does Swagger UI on the app API's docs page: there styles may be inline. Scripts stay
    'self' everywhere."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        inline_styles = request.path.startswith(("/admin/", "/api/v1/docs"))
        if inline_styles and parts.update is None:
            parts = replace(parts, update={"style-src": [SELF, UNSAFE_INLINE]})
        return parts
