"""The portal's URL routes, read from the project's URL patterns (the admin and the app API left
out: the API's own walk reads its OpenAPI document, tests/security/test_api_object_access.py)."""

from django.urls import URLResolver, get_resolver


def portal_routes(patterns=None, prefix=""):
    """(route, parameter names) for every portal URL pattern."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith(("admin", "api/")):
                yield from portal_routes(pattern.url_patterns, route)
        else:
            yield route, list(pattern.pattern.converters)
