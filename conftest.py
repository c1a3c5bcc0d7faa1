"""Fixtures shared by every app's tests."""

import contextlib
import socket
import subprocess
import time

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import translation
from kombu import pools as kombu_pools

from lending.celery import app as celery_app


def pytest_configure(config):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise pytest.UsageError(
            "The suite runs on PostgreSQL: set DATABASE_URL=postgres://... or use `make test`."
        )


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (requests leave theirs active in the thread)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


def reset_broker_connections():
    """Drop cached broker connections so a changed broker_url takes effect."""
    kombu_pools.reset()
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def broker(url: str):
    """Point the Celery app at a real broker (tasks are no longer run eagerly)."""
    saved = {"broker_url": celery_app.conf.broker_url, "task_always_eager": celery_app.conf.task_always_eager}
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    reset_broker_connections()
    try:
        yield celery_app
    finally:
        celery_app.conf.update(saved)
        reset_broker_connections()


@pytest.fixture
def redis_url(worker_id):
    """A Redis database of this test process's own, emptied before use."""
    index = 0 if worker_id == "master" else int(worker_id.removeprefix("gw"))
    url = f"redis://127.0.0.1:6379/{10 + index % 6}"
    redis.Redis.from_url(url).flushdb()
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def redis_server(port: int, directory):
    """A real, throwaway redis-server on ``port`` (to stop and start a broker in a test)."""
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def celery_worker(redis_url):
    """A real Celery worker (solo pool, in a thread) consuming from Redis."""
    with (
        broker(redis_url),
        start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"),
    ):
        yield celery_app


@pytest.fixture
def admin_login(client):
    """Sign a staff member in to the back office through the real OTP login form."""

    from accounts.tests.factories import issue_backup_code

    def login(user, password="staff-pass-123"):
        device, code = issue_backup_code(user)
        response = client.post(
            "/admin/login/",
            {"username": user.username, "password": password, "otp_device": device, "otp_token": code},
        )
        assert response.status_code == 302, response.content[:500]
        return client

    return login
