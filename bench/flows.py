"""What each borrower flow costs in service calls, on PostgreSQL with the sandbox bank.

    .venv/bin/python bench/flows.py [--borrowers 100]

Builds a fresh database ``lending_bench_flows`` (dropped first), and for each of N borrowers
with a verified identity times the service calls of a full bind (start + confirm), an unbind,
a swap of the repayment card and a phone change (start, old code, new number, new code), the
codes read from the texts between calls (not timed). Tasks the calls queue (SMS, the bank
revoke) are a worker's job and not timed. Prints median and p95 per flow and the queries each
flow sends.
"""

import argparse
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sandbox_people import (  # noqa: E402
    allow_next_code,
    bank_code,
    borrower,
    card_number,
    django_on,
    p95,
    queued_tasks,
    sms_code,
    statements,
)

DATABASE = "lending_bench_flows"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=100)
    args = parser.parse_args()
    django_on(DATABASE)
    from django.conf import settings
    from django.db import connection

    from accounts.policies import current_policy
    from accounts.services import (
        phone_change_confirm_new,
        phone_change_confirm_old,
        phone_change_set_new,
        phone_change_start,
    )
    from cards.models import Card
    from cards.services import (
        card_action_code_send,
        card_bind_confirm,
        card_bind_start,
        card_swap,
        card_unbind,
    )

    settings.RISK_UNBINDS_PLATFORM_HOUR = 3 * args.borrowers  # straight through, no review
    seconds, queries = defaultdict(list), defaultdict(list)

    @contextmanager
    def timed(flow: str):
        """Add the block's time and queries to ``flow``'s current sample."""
        with queued_tasks(), statements() as captured:
            began = time.perf_counter()
            yield
            seconds[flow][-1] += time.perf_counter() - began
        queries[flow][-1] += len(captured)

    def sample(flow: str) -> None:
        seconds[flow].append(0.0)
        queries[flow].append(0)

    def bind(user, n: int, prefix: str) -> Card:
        sample("bind")
        with timed("bind"):
            request = card_bind_start(
                actor=user, card_number=card_number(n, prefix), reserved_phone=str(user.phone)
            )
        code = bank_code(request)
        with timed("bind"):
            card = card_bind_confirm(
                actor=user, request=request, code=code, agreement=current_policy("debit_authorisation")
            )
        return card

    for n in range(args.borrowers):
        user = borrower(n)
        first = bind(user, n, "622202")  # the repayment card
        second = bind(user, n, "621700")
        card_action_code_send(actor=user, purpose="card_unbind", target=second.pk)
        sample("unbind")
        with timed("unbind"):
            card_unbind(actor=user, card=second, code=sms_code(user.phone))
        third = bind(user, n, "622848")
        allow_next_code()
        card_action_code_send(actor=user, purpose="card_swap", target=f"{first.pk}:{third.pk}")
        sample("swap")
        with timed("swap"):
            card_swap(actor=user, old=first, new=third, code=sms_code(user.phone))

    for n in range(args.borrowers):
        user = borrower(args.borrowers + n)
        new_phone = f"+86137{n:08d}"
        sample("phone change")
        with timed("phone change"):
            change = phone_change_start(actor=user)
        code = sms_code(user.phone)
        allow_next_code()
        with timed("phone change"):
            change = phone_change_confirm_old(actor=user, change=change, code=code)
        with timed("phone change"):
            change = phone_change_set_new(actor=user, change=change, new_phone=new_phone)
        code = sms_code(new_phone)
        with timed("phone change"):
            phone_change_confirm_new(actor=user, change=change, code=code)

    print(f"{'flow':14} {'samples':>7} {'median ms':>9} {'p95 ms':>7} {'queries':>7}")
    for flow, times in seconds.items():
        median, high = statistics.median(times) * 1000, p95(times) * 1000
        print(f"{flow:14} {len(times):7d} {median:9.1f} {high:7.1f} {statistics.median(queries[flow]):7.0f}")
    connection.close()


if __name__ == "__main__":
    main()
