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
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sandbox_people import (  # noqa: E402
    bank_code,
    borrower,
    card_number,
    django_on,
    p95,
    queued_tasks,
    sms_code,
    statements,
)

DATABASE = "lending_bench_audit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unbinds", type=int, default=300)
    args = parser.parse_args()
    django_on(DATABASE)
    from django.conf import settings
    from django.db import connection

    import audit.services.events as events
    from accounts.policies import current_policy
    from cards.services import card_action_code_send, card_bind_confirm, card_bind_start, card_unbind

    settings.RISK_UNBINDS_PLATFORM_HOUR = args.unbinds + 1  # every unbind straight through, no review

    cards = []
    started = time.perf_counter()
    for n in range(args.unbinds):
        user = borrower(n)
        request = card_bind_start(actor=user, card_number=card_number(n), reserved_phone=str(user.phone))
        code = bank_code(request)
        agreement = current_policy("debit_authorisation")
        cards.append(card_bind_confirm(actor=user, request=request, code=code, agreement=agreement))
    print(f"built {len(cards)} borrowers with a bound card in {time.perf_counter() - started:.0f} s")

    real_write = events._write
    spent, each, actions = [], [], Counter()
    timing = False

    def timed_write(actor, entries):
        if not timing:  # outside the unbind call
            return real_write(actor, entries)
        began = time.perf_counter()
        try:
            return real_write(actor, entries)
        finally:
            spent.append(time.perf_counter() - began)
            each.append(spent[-1])
            actions.update(str(entry["action"]) for entry in entries)

    events._write = timed_write
    per_unbind, whole, inserts, recorded = [], [], 0, 0
    for card in cards:
        user = card.user
        card_action_code_send(actor=user, purpose="card_unbind", target=card.pk)
        code = sms_code(user.phone)
        spent.clear()
        timing = True
        with queued_tasks(), statements() as sent:  # revoke and SMS: the worker's
            began = time.perf_counter()
            card_unbind(actor=user, card=card, code=code)
            whole.append(time.perf_counter() - began)
            timing = False  # what the worker then does is not the unbind's
        per_unbind.append(sum(spent))
        recorded += len(spent)
        inserts += sum(sql.replace('"', "").startswith("INSERT INTO audit_auditevent") for sql in sent)
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


if __name__ == "__main__":
    main()
