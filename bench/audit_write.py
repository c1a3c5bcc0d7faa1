"""What writing the audit event costs a card unbind, on PostgreSQL with the sandbox bank.

    .venv/bin/python bench/audit_write.py [--unbinds 300]

Builds a fresh database ``lending_bench_audit`` (dropped first) with N borrowers, each with a
verified identity and a bound sandbox card, then unbinds every card through the real services
(code sent to the phone, ``card_unbind``). Around each unbind it times every ``record`` call and
counts the statements they send. Prints the median and p95 of the time ``record`` adds to one
unbind and of the whole service call, and the INSERTs per recorded event. Target: under 1 ms
p95 and one INSERT per event.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "lending_bench_audit"
URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"


def card_number(n: int) -> str:
    """A Luhn-valid ICBC debit number ending in 1234 (the sandbox bank accepts it)."""
    from stdnum import luhn

    for check in range(10):
        number = f"622202{n:08d}{check}1234"
        if luhn.is_valid(number):
            return number
    raise AssertionError("no Luhn digit")


def id_number(n: int) -> str:
    """A valid resident ID number of an adult, one per borrower (up to 999)."""
    from stdnum.cn import ric

    first = f"11010519900307{n:03d}"
    return first + ric.calc_check_digit(first + "0")  # the function skips the last character


def p95(values):
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unbinds", type=int, default=300)
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="lending.settings",
        DATABASE_URL=URL,
        LOG_LEVEL="WARNING",
        SMS_BACKEND="accounts.sms.LocmemBackend",
        CELERY_BROKER_URL="memory://",  # tasks run eagerly while building, queued during unbinds
    )
    sys.path.insert(0, str(ROOT))
    import django
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)  # noqa: S603
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import audit.services.events as events
    from accounts.models import User
    from accounts.policies import current_policy
    from accounts.services import identity_verify
    from accounts.sms import LocmemBackend
    from cards.services import card_action_code_send, card_bind_confirm, card_bind_start, card_unbind
    from lending.celery import app as celery_app

    settings.RISK_UNBINDS_PLATFORM_HOUR = args.unbinds + 1  # every unbind straight through, no review
    settings.SMS_CODE_THROTTLE_FACTOR = 0
    celery_app.conf.task_always_eager = True

    cards = []
    started = time.perf_counter()
    for n in range(args.unbinds):
        user = User.objects.create_borrower(f"+86139{n:08d}")
        identity_verify(actor=user, real_name="张三", id_number=id_number(n))
        request = card_bind_start(actor=user, card_number=card_number(n), reserved_phone=str(user.phone))
        code = _code(LocmemBackend.outbox, user.phone)
        agreement = current_policy("debit_authorisation")
        cards.append(card_bind_confirm(actor=user, request=request, code=code, agreement=agreement))
    print(f"built {len(cards)} borrowers with a bound card in {time.perf_counter() - started:.0f} s")

    real_record_many = events.record_many
    spent, each, actions = [], [], Counter()

    def timed_record_many(**kwargs):
        began = time.perf_counter()
        try:
            return real_record_many(**kwargs)
        finally:
            spent.append(time.perf_counter() - began)
            if not celery_app.conf.task_always_eager:  # inside the unbind call
                each.append(spent[-1])
                actions.update(str(entry["action"]) for entry in kwargs["entries"])

    events.record_many = timed_record_many
    per_unbind, whole, inserts, recorded = [], [], 0, 0
    for card in cards:
        user = card.user
        card_action_code_send(actor=user, purpose="card_unbind", target=card.pk)
        code = _code(LocmemBackend.outbox, user.phone)
        spent.clear()
        connection.queries_log.clear()
        celery_app.conf.task_always_eager = False  # the bank revoke and the SMS go to the worker
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            card_unbind(actor=user, card=card, code=code)
            whole.append(time.perf_counter() - began)
        celery_app.conf.task_always_eager = True
        per_unbind.append(sum(spent))
        recorded += len(spent)
        inserts += sum('INSERT INTO "audit_auditevent"' in query["sql"] for query in queries.captured_queries)
    ms = 1000
    print(f"unbinds: {len(whole)}, audit events per unbind: {recorded / len(whole):.1f}: {dict(actions)}")
    print(f"one record call: median {statistics.median(each) * ms:.2f} ms, p95 {p95(each) * ms:.2f} ms")
    print(
        f"record per unbind: median {statistics.median(per_unbind) * ms:.2f} ms, "
        f"p95 {p95(per_unbind) * ms:.2f} ms (target < 1 ms p95)"
    )
    print(
        f"whole card_unbind call: median {statistics.median(whole) * ms:.1f} ms, p95 {p95(whole) * ms:.1f} ms"
    )
    print(f"INSERTs into audit_auditevent per event: {inserts / recorded:.2f} (target 1)")
    connection.close()


def _code(outbox, phone) -> str:
    for sms in reversed(outbox):
        if sms.to == str(phone) and (match := re.search(r"\b(\d{6})\b", sms.body)):
            return match.group(1)
    raise SystemExit(f"no code was sent to {phone}")


if __name__ == "__main__":
    main()
