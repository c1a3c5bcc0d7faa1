"""Request checks that apply to every page."""

from django.conf import settings
from django.core.exceptions import BadRequest
from django.utils.cache import patch_cache_control


class RefuseNulBytesMiddleware:
    """A NUL byte in the query string is refused with 400: no database stores it in text, and
    search boxes and list filters pass the query string to the database unchanged. (Forms
    already refuse it in posted fields, with a message.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            raise BadRequest("NUL byte in the query string")
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Pages for someone signed in, or half way through a flow, and every back-office page carry
    ``Cache-Control: private, no-store``: no shared cache (a proxy, a CDN) and no browser history
    keeps a copy of a page with personal data. Anonymous pages stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            or request.path.startswith("/admin/")
            or request.user.is_authenticated
        ):
            patch_cache_control(response, private=True, no_store=True)
        return response
