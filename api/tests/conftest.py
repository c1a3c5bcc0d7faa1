"""An API client with a device token, and the card fixtures of cards/tests."""

import itertools
import json

import pytest

from api.services import device_token_create
from cards.tests.conftest import action_code, bind, borrower  # noqa: F401

_keys = itertools.count(1)


class ApiClient:
    """Django's test client speaking JSON to /api/v1/, with a bearer token and a fresh
    Idempotency-Key for each POST unless one is given."""

    def __init__(self, client, token: str | None = None, language: str = "en"):
        self.client, self.token, self.language = client, token, language
        self.responses = []

    def headers(self, extra=None) -> dict:
        headers = {"Accept-Language": self.language}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def get(self, path: str, params=None, headers=None):
        response = self.client.get(f"/api/v1{path}", params or {}, headers=self.headers(headers))
        self.responses.append(response)
        return response

    def post(self, path: str, body=None, *, key: str | None = None, headers=None):
        extra = {"Idempotency-Key": key or f"test-{next(_keys)}", **(headers or {})}
        response = self.client.post(
            f"/api/v1{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self.headers(extra),
        )
        self.responses.append(response)
        return response


@pytest.fixture
def api(client):
    """An anonymous API client."""
    return ApiClient(client)


@pytest.fixture
def api_as(client):
    """``api_as(user)``: an API client signed in on a device (as if both factors passed)."""

    def make(user, device_id="phone-1", device_name="Test phone"):
        _token, secret = device_token_create(user=user, device_id=device_id, device_name=device_name)
        return ApiClient(client, secret)

    return make
