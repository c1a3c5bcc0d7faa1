"""Every API path that takes an object id answers 404 to another borrower, for GET and POST.

The paths come from the API's own OpenAPI document, so a new endpoint with an id is covered
without anyone remembering to add it here; it only needs a way to make the first borrower's
object (``owned``).
"""

import json
import re

import pytest

from accounts.tests.factories import BorrowerFactory
from api.api import api as app_api
from api.services import device_token_create
from audit.models import AuditEvent
from tests.security.test_object_access import owned, snapshot  # noqa: F401

pytestmark = pytest.mark.django_db


def test_another_borrower_gets_404_for_every_api_object_path(owned, client):  # noqa: F811
    public = {"document"}  # a policy's name, the same text for everyone
    schema_paths = app_api.get_openapi_schema()["paths"]
    paths = [path for path in schema_paths if set(re.findall(r"{(\w+)}", path)) - public]
    assert len(paths) >= 14
    intruder = BorrowerFactory(phone="+8613900139000")
    _token, secret = device_token_create(user=intruder, device_id="other", device_name="Other")
    headers = {"Authorization": f"Bearer {secret}"}
    body = json.dumps(
        {
            "code": "123456",
            "new_phone": "13700137000",
            "new_card": owned["card_id"],
            "purpose": "card_unbind",
            "accept_agreement": True,
            "card": owned["card_id"],
            "payment_ref": owned["payment_ref"],
            "installments": [],
            "total": "1.00",
            "text": "mine now",
        }
    )
    before, events_before = snapshot(), AuditEvent.objects.count()
    for number, path in enumerate(paths):
        names = re.findall(r"{(\w+)}", path)
        unknown = set(names) - set(owned)
        assert not unknown, f"{path}: add a fixture object for {unknown} to `owned`"
        url = path
        for name in names:
            url = url.replace(f"{{{name}}}", str(owned[name]))
        get = client.get(url, headers=headers)
        post = client.post(
            url, body, content_type="application/json", headers={**headers, "Idempotency-Key": f"k{number}"}
        )
        assert get.status_code in (404, 405), (url, get.status_code, get.content)
        assert post.status_code in (404, 405), (url, post.status_code, post.content)
        assert (get.status_code, post.status_code) != (405, 405), url
    assert snapshot() == before
    assert AuditEvent.objects.count() == events_before
