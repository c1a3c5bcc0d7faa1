"""Request checks that apply to every page."""

from django.core.exceptions import BadRequest


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
