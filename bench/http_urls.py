"""The project's URLs plus ``/hello/``: Django's ceiling on this machine, same middleware and server."""

from django.http import HttpResponse
from django.urls import include, path


def hello(request):
    return HttpResponse("hello")


urlpatterns = [path("hello/", hello), path("", include("lending.urls"))]
