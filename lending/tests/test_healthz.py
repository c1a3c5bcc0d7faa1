import pytest
from django.db import DatabaseError

from conftest import broker, free_port

pytestmark = pytest.mark.django_db


def test_embedded_mode_reports_an_eager_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "up", "broker": "eager"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.redis
def test_a_running_broker_is_up(client, redis_url):
    with broker(redis_url):
        assert client.get("/healthz").json() == {"database": "up", "broker": "up"}


def test_a_stopped_broker_is_down_without_an_error(client):
    with broker(f"redis://127.0.0.1:{free_port()}/0"):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "up", "broker": "down"}


def test_a_lost_database_answers_503(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"
