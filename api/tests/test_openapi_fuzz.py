"""Schemathesis against the served OpenAPI document: no 5xx, every answer matches the schema.

(Content types too: errors are documented as application/problem+json.) A bounded run (API_FUZZ_EXAMPLES examples per operation, 8 by default) for the suite; bench/
api_fuzz.py runs the same with many more. Calls go to the WSGI app in process, signed in as a
borrower with an identity and a bound card (every object id they may guess is someone's, or
nobody's).
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from api.services import device_token_create

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))


@pytest.fixture
def api_schema(db, settings):
    """The document as served. Requests keep the test's connection open, as the test client does
    (the WSGI handler would close it after each request, and with it the test's transaction)."""
    settings.API_DOCS_ENABLED = True
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(borrower, bind, make_loan):
    """A fresh token for each request: a generated sign-out or password change would otherwise
    leave every later request at 401."""
    bind(borrower)
    make_loan(borrower)

    def fresh() -> str:
        user = User.objects.get(pk=borrower.pk)
        return device_token_create(user=user, device_id="fuzz", device_name="Fuzz")[1]

    return fresh


# Run last: what they change (a freeze, every session ended, a new password) refuses much after them.
LAST = ("/security/freeze", "/auth/sign-out-everywhere", "/password", "/devices/revoke-all")


def in_order(schema):
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda operation: operation.path.endswith(LAST))


def fuzz(schema, token, examples: int) -> tuple[list[str], dict]:
    """Run every operation of ``schema`` with ``examples`` generated requests. Returns the
    operations whose checks failed, with the first failure (hypothesis shrinks it), and how
    many answers of each status were seen."""
    failed, statuses = [], {}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    for operation in in_order(schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case):
            response = case.call(headers={"Authorization": f"Bearer {token()}"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=checks)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - every operation is run; the failures are listed
            failed.append(f"{operation.label}: {exc}")
    return failed, statuses


def test_the_api_answers_every_generated_request_within_its_schema(api_schema, token):
    failed, statuses = fuzz(api_schema, token, EXAMPLES)
    print(f"api fuzz statuses: {dict(sorted(statuses.items()))}")  # read by bench/api_fuzz.py
    assert not failed, "\n\n".join(failed)
    assert sum(statuses.values()) >= 38 and 200 in statuses, statuses
