"""Redis stopped where it is both the cache that sessions are read from and the Celery broker (as
docker-compose runs it): the pages keep working on the sessions in PostgreSQL, the texts wait in
the outbox, and a session that ended meanwhile stays ended when Redis comes back with its data.
"""

import re

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import SmsMessage
from cards.models import Card
from cards.tests.conftest import RESERVED
from cards.tests.sandbox_cards import GOOD_DEBIT, OTHER_GOOD_DEBIT
from conftest import broker, free_port, redis_server
from lending import sessions
from lending.models import OutboxMessage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

PASSWORD = "borrower-pass-123"


@pytest.fixture
def redis_port(settings, monkeypatch):
    """A free port for a throwaway Redis, the cache of sessions as in production."""
    port = free_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "lending.cache.RedisCache",  # production's (lending/settings.py)
            "LOCATION": f"redis://127.0.0.1:{port}/1",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    settings.SESSION_ENGINE = "lending.sessions"
    settings.CACHE_RETRY_SECONDS = 0  # each request tries Redis: it is used as soon as it is back
    settings.SMS_CODE_RESEND_SECONDS = 0  # several sign-ins to one number within a minute
    monkeypatch.setattr(sessions, "breaker", sessions.Breaker())
    return port


def texted_code(phone) -> str:
    """The code in the newest text to ``phone``, read from its queued message (no worker runs here;
    during the outage the text goes out once Redis is back)."""
    for message in SmsMessage.objects.order_by("-pk"):
        if message.to == str(phone) and (match := re.search(r"\b(\d{6})\b", message.body)):
            return match.group(1)
    raise AssertionError(f"no code was texted to {phone}")


def sign_in_through_the_pages(client) -> Client:
    response = client.post("/accounts/login/", {"phone": RESERVED, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/verify/"
    response = client.post("/accounts/login/verify/", {"code": texted_code(RESERVED)})
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200
    return client


def holding(session_key) -> Client:
    """A browser presenting ``session_key``, such as a copied cookie."""
    browser = Client()
    browser.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    return browser


def test_pages_work_while_redis_is_down_and_a_session_ended_then_stays_ended(
    bind, borrower, redis_port, tmp_path, bank
):
    repayment_card = bind(borrower, GOOD_DEBIT)
    url = f"redis://127.0.0.1:{redis_port}/0"
    with broker(url):
        with redis_server(redis_port, tmp_path):
            kept = sign_in_through_the_pages(Client())
            ended = sign_in_through_the_pages(Client())
            ended_key = ended.cookies[django_settings.SESSION_COOKIE_NAME].value
            assert holding(ended_key).get("/accounts/").status_code == 200  # what sign-out must end
            redis.Redis(port=redis_port).save()  # Redis keeps its data through a restart

        # Redis stopped.
        last_before = SmsMessage.objects.latest("pk").pk
        for page in ["/accounts/", "/cards/", "/accounts/security/"]:
            assert kept.get(page).status_code == 200, page
        fresh = sign_in_through_the_pages(Client())

        response = fresh.post("/cards/bind/", {"card_number": OTHER_GOOD_DEBIT, "reserved_phone": RESERVED})
        assert response.status_code == 302
        form = fresh.get(response["Location"]).context["form"]
        response = fresh.post(
            response["Location"],
            {
                "code": bank.latest_code(),
                "agreement_version": form.policy.version,
                "agreement_sha256": form.policy.sha256,
                "accept_agreement": "on",
            },
        )
        assert response.status_code == 302 and response["Location"] == "/cards/"
        new_card = Card.objects.get(user=borrower, status=Card.Status.ACTIVE, is_repayment=False)

        assert fresh.post(f"/cards/{new_card.pk}/code/", {"purpose": "card_unbind"}).status_code == 302
        response = fresh.post(f"/cards/{new_card.pk}/unbind/", {"code": texted_code(RESERVED)})
        assert response.status_code == 302 and response["Location"] == "/cards/"
        new_card.refresh_from_db()
        assert new_card.status == Card.Status.UNBOUND
        assert Card.objects.get(pk=repayment_card.pk).status == Card.Status.ACTIVE

        assert ended.post("/accounts/logout/").status_code == 302
        assert holding(ended_key).get("/accounts/").status_code == 302  # to the sign-in page
        # The login, bank and unbind codes (and the notices) wait for Redis, none lost.
        texts = SmsMessage.objects.filter(pk__gt=last_before)
        assert texts.count() >= 3 and set(texts.values_list("status", flat=True)) == {
            SmsMessage.Status.QUEUED
        }
        pending = OutboxMessage.objects.filter(
            status=OutboxMessage.Status.PENDING, task="accounts.tasks.send_sms"
        )
        assert {m.kwargs["sms_id"] for m in pending} >= set(texts.values_list("pk", flat=True))

        with redis_server(redis_port, tmp_path):
            assert redis.Redis(port=redis_port, db=1).keys(f"*{ended_key}")  # back with the ended session
            assert holding(ended_key).get("/accounts/").status_code == 302  # which it does not let in
            assert kept.get("/accounts/").status_code == 200
            assert fresh.get("/cards/").status_code == 200
            with CaptureQueriesContext(connection) as queries:
                assert kept.get("/accounts/").status_code == 200
            assert not [q for q in queries if "django_session" in q["sql"]]  # read from Redis again
