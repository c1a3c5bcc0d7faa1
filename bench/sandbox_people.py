"""Shared by the service benchmarks: a fresh database, borrowers the sandbox bank accepts, codes.

``django_on(database)`` drops and recreates the database, migrates it in another process and
sets Django up in this one with production settings (``bench/production_env.py``), texts kept in
memory (read back for the codes) and Celery tasks run in-process; ``queued_tasks()`` holds them
in the outbox while a service call is timed; ``statements()`` lists the SQL a block sends.
"""

import os
import re
import statistics
from contextlib import contextmanager

from bench.production_env import environment, fresh_database, manage


def django_on(database: str) -> None:
    os.environ.update(SMS_BACKEND="accounts.sms.LocmemBackend", CELERY_BROKER_URL="memory://localhost/")
    env = environment(database)
    fresh_database(database)
    manage("migrate", env=env)
    import django

    django.setup()
    from django.conf import settings

    from lending.celery import app

    app.conf.task_always_eager = True
    settings.SMS_CODE_THROTTLE_FACTOR = 0


@contextmanager
def statements():
    """The SQL the block sends, through a light execute wrapper (not Django's debug cursor)."""
    from django.db import connection

    sent = []

    def remember(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(remember):
        yield sent


@contextmanager
def queued_tasks():
    """Tasks the block sends stay in the outbox (a worker's job, not the timed call's), and run
    right after it, so the texts with the codes arrive."""
    from datetime import timedelta

    from lending import outbox

    publish = outbox.outbox_publish
    outbox.outbox_publish = lambda **kwargs: None
    try:
        yield
    finally:
        outbox.outbox_publish = publish
    outbox.outbox_relay(min_age=timedelta(0))


def card_number(n: int, prefix: str = "622202") -> str:
    """A Luhn-valid debit number ending in 1234 (the sandbox bank accepts it)."""
    from stdnum import luhn

    for check in range(10):
        number = f"{prefix}{n:08d}{check}1234"
        if luhn.is_valid(number):
            return number
    raise AssertionError("no Luhn digit")


def id_number(n: int) -> str:
    """A valid resident ID number of an adult, one per borrower (up to 999)."""
    from stdnum.cn import ric

    first = f"11010519900307{n:03d}"
    return first + ric.calc_check_digit(first + "0")  # the function skips the last character


def borrower(n: int):
    """Borrower n (mobile +86139000000nn) with a verified identity."""
    from accounts.models import User
    from accounts.services import identity_verify

    user = User.objects.create_borrower(f"+86139{n:08d}")
    identity_verify(actor=user, real_name="张三", id_number=id_number(n))
    return user


def allow_next_code() -> None:
    """As if a minute passed since the last code (the per-number wait between codes)."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import SmsCodeSend

    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))


def sms_code(phone) -> str:
    """The newest 6-digit code texted to ``phone``."""
    from accounts.sms import LocmemBackend

    for sms in reversed(LocmemBackend.outbox):
        if sms.to == str(phone) and (match := re.search(r"\b(\d{6})\b", sms.body)):
            return match.group(1)
    raise SystemExit(f"no code was sent to {phone}")


def bank_code(request) -> str:
    """The code the sandbox bank texted for a binding, read from its own texts."""
    import httpx
    from django.conf import settings

    answer = httpx.get(
        f"{settings.BANK_HTTP_URL}/sandbox/sms", params={"sign_id": request.gateway_reference}, timeout=10
    )
    return answer.json()["messages"][0]["code"]


def p95(values) -> float:
    return statistics.quantiles(values, n=20)[-1]
