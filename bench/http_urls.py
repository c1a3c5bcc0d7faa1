"""The project's URLs plus ``/hello/`` (Django's ceiling on this machine, same middleware and
server) and ``/hello-borrower/``, the same behind a verified borrower sign-in."""

from django.http import HttpResponse
from django.urls import include, path

from accounts.decorators import borrower_required


def hello(request):
    return HttpResponse("hello")


@borrower_required
def hello_borrower(request):
    return HttpResponse("hello")


urlpatterns = [
    path("hello/", hello),
    path("hello-borrower/", hello_borrower),
    path("", include("lending.urls")),
]
