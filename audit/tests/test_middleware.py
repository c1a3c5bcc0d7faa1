import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from audit.context import current_request
from audit.middleware import RequestContextMiddleware


def run(**headers):
    seen = {}

    def view(request):
        seen["context"] = current_request()
        return HttpResponse()

    response = RequestContextMiddleware(view)(RequestFactory().get("/", **headers))
    return response, seen["context"]


def test_a_well_formed_request_id_is_kept_and_echoed():
    response, context = run(HTTP_X_REQUEST_ID="edge-42.a")
    assert context.request_id == response["X-Request-ID"] == "edge-42.a"


@pytest.mark.parametrize("incoming", [None, "", "has spaces", "x" * 65, "<script>"])
def test_a_missing_or_malformed_request_id_is_replaced(incoming):
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    response, context = run(**headers)
    assert len(context.request_id) == 32
    assert response["X-Request-ID"] == context.request_id
    assert current_request() is None  # unbound after the request


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.NUM_PROXIES = 0
    _, context = run(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert context.ip == "10.0.0.9"


def test_client_ip_is_read_behind_one_trusted_proxy(settings):
    settings.NUM_PROXIES = 1
    _, context = run(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert context.ip == "203.0.113.7"


def test_a_forged_forwarded_for_value_falls_back_to_the_peer(settings):
    settings.NUM_PROXIES = 1
    _, context = run(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert context.ip == "10.0.0.9"


def test_the_user_agent_is_truncated():
    _, context = run(HTTP_USER_AGENT="A" * 1000)
    assert context.user_agent == "A" * 300
