"""Fixtures shared by every app's tests."""

import contextlib
import os
import re
import socket
import subprocess
import time
from datetime import date
from decimal import Decimal

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import translation
from kombu import pools as kombu_pools

from lending.celery import app as celery_app

pytest_plugins = ["tests.bank_server", "tests.faceid_server"]  # the sandbox bank and FaceID as real servers


def pytest_configure(config):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise pytest.UsageError(
            "The suite runs on PostgreSQL: set DATABASE_URL=postgres://... or use `make test`."
        )
    _signal_portal_renders()


def _signal_portal_renders():
    """``response.context`` and ``assertTemplateUsed`` for the portal's Jinja2 pages, as Django's
    test setup gives them for its own engine: the view's context, the page first."""
    from django.template.backends.jinja2 import Template
    from django.test.signals import template_rendered

    render = Template.render

    def rendered(self, context=None, request=None):
        context = {} if context is None else context
        template_rendered.send(sender=self, template=self, context=context)
        return render(self, context, request)

    Template.render = rendered
    Template.name = property(lambda self: self.template.name)


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Service messages read in English in tests; pages still choose their language per request.

    (A request leaves its language active in the thread; this also resets that.)
    """
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def bank(http_bank):
    """Every test reaches the sandbox bank server over HTTP, its books empty (tests/bank_server.py)."""
    return http_bank


@pytest.fixture(autouse=True)
def sms_outbox():
    """Texts sent through the locmem SMS backend during the test."""
    from accounts.sms import LocmemBackend

    LocmemBackend.outbox.clear()
    yield LocmemBackend.outbox
    LocmemBackend.outbox.clear()


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """``with deliver(): ...`` runs what commits would trigger (the outbox: SMS, tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def last_code(sms_outbox):
    """The 6-digit code in the newest text to ``phone``."""

    def find(phone) -> str:
        for sms in reversed(sms_outbox):
            if sms.to == str(phone):
                match = re.search(r"\b(\d{6})\b", sms.body)
                if match:
                    return match.group(1)
        raise AssertionError(f"no code was sent to {phone}")

    return find


@pytest.fixture
def sign_in(client):
    """Sign a borrower in as if both factors passed (and, by default, the password was just re-typed)."""
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.services.codes import login_device

    def login(user, *, reauthenticated=True):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = login_device(user).persistent_id
        if reauthenticated:
            session["reauth_at"] = timezone.now().isoformat()
        session.save()
        return client

    return login


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
    # A second checkout running its suite at the same time sets another base (0-14).
    base = int(os.environ.get("TEST_REDIS_DB_BASE", "10"))
    url = f"redis://127.0.0.1:6379/{base + index % 2}"
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


def _close_worker_connections(task=None, **kwargs):
    """The worker thread's database connection closes after each task, as in a real worker."""
    from django.db import connections

    if task is not None and not task.request.is_eager:
        connections.close_all()


@pytest.fixture
def celery_worker(redis_url):
    """A real Celery worker (solo pool, in a thread) consuming from Redis."""
    from celery.signals import task_postrun

    task_postrun.connect(_close_worker_connections)
    try:
        with (
            broker(redis_url),
            start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"),
        ):
            yield celery_app
    finally:
        task_postrun.disconnect(_close_worker_connections)


def wait_until(condition, timeout=20.0):
    """Poll ``condition`` until it holds (work done by another thread or process)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


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


FIRST_DUE = date(2026, 12, 15)


@pytest.fixture
def make_loan():
    """Disburse a 3-month loan of 3,000 (first due FIRST_DUE) to a borrower with a repayment card."""
    from lending.services import loan_create

    def disburse(user, *, principal="3000.00", term_months=3, first_due=FIRST_DUE, product="phone"):
        return loan_create(
            actor=None,
            borrower=user,
            product=product,
            principal=Decimal(principal),
            annual_rate=Decimal("0.12"),
            term_months=term_months,
            first_due=first_due,
        )

    return disburse
