"""Property-based fuzzing of every portal form: any input answers 2xx, 3xx or 4xx, never a 500, and a
refused input (the form shown again) changes nothing but the audit trail. A longer run:
``HYPOTHESIS_PROFILE=long`` (see bench/fuzz.py)."""

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Identity, PhoneChange, User
from cards.models import Card, CardBindRequest, Mandate
from cards.tests import sandbox_cards
from lending.models import DebitAttempt, Loan
from tests.security.test_object_access import owned  # noqa: F401  (the borrower's objects)

pytestmark = pytest.mark.django_db

FORM_PAGES = [
    "/accounts/register/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/accounts/password/change/",
    "/accounts/confirm-password/",
    "/accounts/identity/",
    "/accounts/phone/change/",
    "/accounts/phone/lost/",
    "/cards/bind/",
    "/cards/bind/{request_id}/confirm/",
    "/cards/{spare_card_id}/repayment/",  # the repayment card has no repayment form
    "/cards/{card_id}/unbind/",
]
POST_ONLY = {  # views that only take a POST: their fields
    "/accounts/phone/change/{change_id}/old/": ["code"],
    "/accounts/phone/change/{change_id}/new/": ["new_phone"],
    "/accounts/phone/change/{change_id}/confirm/": ["code"],
    "/cards/{card_id}/swap/": ["new_card", "code"],
    "/cards/{card_id}/code/": ["purpose", "new_card"],
}

inputs = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    [
        "",
        "0",
        "-1",
        "13800138000",
        "+8613800138000",
        "123456",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "\x00",
        "card_swap",
        "²",  # Unicode digits: str.isdigit() says yes, int() and the database say no
        "١٢٣٤٥٦",
        "１３８００１３８０００",
        "9" * 19,  # past a bigint
        "9" * 100_000,
        "1e999999",
        "-0",
    ]
)

for name, examples in (("default", 15), ("long", 400)):
    settings.register_profile(
        name,
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def state():
    models = (User, Identity, PhoneChange, Card, Mandate, CardBindRequest, Loan, DebitAttempt)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def field_names(client, url) -> list[str]:
    page = client.get(url).content.decode()
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*name="([^"]+)"', page)) - {"csrfmiddlewaretoken"}
    return sorted(names)


@pytest.fixture
def objects(owned, bind, borrower):  # noqa: F811
    """The borrower's objects, and a second active card that does not repay yet."""
    return {**owned, "spare_card_id": bind(borrower, sandbox_cards.THIRD_GOOD_DEBIT).pk}


@pytest.mark.parametrize("template", FORM_PAGES + list(POST_ONLY))
def test_any_input_to_a_portal_form_is_answered_without_a_server_error(template, objects, sign_in, borrower):
    client = sign_in(borrower)
    url = template.format(**objects)
    names = field_names(client, url)
    if "/accounts/register/" in url or "/login/" in url or "/password/reset/" in url:
        client.logout()
        names = field_names(client, url)
    names = names or POST_ONLY.get(template, [])
    assert names, f"{url} shows no form"

    @given(st.fixed_dictionaries({name: inputs for name in names}))
    def post(data):
        before = state()
        response = client.post(url, data)
        assert response.status_code < 500, (url, data)
        if response.status_code in (200, 400):  # refused: the form again, with a message
            assert state() == before, (url, data)

    post()
